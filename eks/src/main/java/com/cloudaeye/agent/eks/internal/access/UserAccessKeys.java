package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.CreateAccessKeyResponse;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/** The access key of CloudAEye's IAM user: creating one whose secret goes only to the sink, and deleting them. */
final class UserAccessKeys {
    private static final Logger LOG = LoggerFactory.getLogger(UserAccessKeys.class);

    private final Optional<Consumer<AccessKey>> sink;

    /** @param sink the target's own sink for a new key; empty for the installer's */
    UserAccessKeys(Optional<Consumer<AccessKey>> sink) {
        this.sink = sink;
    }

    /** @return whether a new key's secret has somewhere to go: the target's own sink, else the installer's */
    boolean hasSink(TargetContext context) {
        return sink(context) != null;
    }

    private @Nullable Consumer<AccessKey> sink(TargetContext context) {
        return sink.or(() -> context.sink(EksTarget.ACCESS_KEY_SINK)).orElse(null);
    }

    void createKey(Change change, ApplyContext context) {
        Consumer<AccessKey> target = sink(context);
        if (target == null) {
            // IamUserStackAccess.check refuses such an apply before any change; kept for a caller that skips it.
            context.failed(
                    change,
                    "No access key sink, so a new access key's secret would have nowhere to go: build the"
                            + " installer with .sink(EksTarget.ACCESS_KEY_SINK, key -> ...).",
                    null);
            return;
        }
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        List<AccessKeyMetadata> keys;
        try {
            keys = context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                                    .accessKeyMetadata());
        } catch (RuntimeException e) {
            context.failed(
                    change,
                    "Listing the access keys of " + IamUserStackAccess.USER_NAME + " failed: "
                            + AwsFailures.describe(e),
                    e);
            return;
        }
        List<String> ids =
                keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().collect(Collectors.toList());
        List<String> planned = keysBefore(change);
        String reuseKeyId = KeyState.fromJson(change.targetState()).reuseKeyId();
        boolean started = false;
        if (planned != null && !planned.containsAll(ids)) {
            // Only the installer adds keys to CloudAEye's user, and only through this change: a key made since
            // planning is this change's own, from an apply killed between CreateAccessKey and its answer (resumed
            // now). Its secret never reached the sink and never will: delete it and make the key the plan promised.
            context.starting(change);
            started = true;
            try {
                deleteKeysNotIn(iam, context, planned);
            } catch (RuntimeException e) {
                AwsFailures.report(
                        context,
                        change,
                        "Deleting the access key an interrupted apply made for " + IamUserStackAccess.USER_NAME
                                + " (its secret is lost)" + " failed: " + AwsFailures.describe(e),
                        e);
                return;
            }
            ids.retainAll(planned);
        }
        if (reuseKeyId != null && ids.contains(reuseKeyId)) {
            context.skipped(change, "The user has the key " + reuseKeyId + " that CloudAEye holds: no new key.");
            return;
        }
        if (ids.size() >= IamUserStackAccess.KEY_LIMIT) {
            context.skipped(
                    change,
                    "The user has " + ids.size() + " access keys (" + String.join(", ", ids)
                            + ") since planning, IAM's limit: not creating a third.");
            return;
        }
        if (!ids.isEmpty() && reuseKeyId == null) {
            context.skipped(
                    change,
                    "The user got the access key " + String.join(", ", ids) + " since planning: plan"
                            + " again and say with reuseAccessKey(id) whether CloudAEye holds it.");
            return;
        }
        if (!started) {
            context.starting(change);
        }
        CreateAccessKeyResponse created;
        try {
            created = createKeyOnce(iam, context, ids);
        } catch (RuntimeException e) {
            AwsFailures.report(
                    context,
                    change,
                    "Creating an access key for " + IamUserStackAccess.USER_NAME + " failed: "
                            + AwsFailures.describe(e),
                    e);
            return;
        }
        String keyId = created.accessKey().accessKeyId();
        LOG.info("Created the access key {} for {}", keyId, IamUserStackAccess.USER_NAME);
        AccessKey key = AccessKey.builder()
                .userName(IamUserStackAccess.USER_NAME)
                .accessKeyId(keyId)
                .secretAccessKey(Secret.of(created.accessKey().secretAccessKey()))
                .build();
        try {
            target.accept(key);
        } catch (RuntimeException e) {
            // The sink's exception may quote the key: neither its message nor the exception itself is passed on.
            // The key landed, so the change is not FAILED (nothing changed) but UNKNOWN, journaled with the key's id:
            // a rollback deletes exactly it, a resume replaces it (a key the plan did not know of has a lost secret).
            context.unknown(
                    change,
                    "The accessKeySink threw " + e.getClass().getName() + " while receiving the key "
                            + keyId
                            + ", whose secret AWS shows only once, so the key exists but may be held by no one: roll"
                            + " back (deletes it) or resume (replaces it), or delete it (aws iam delete-access-key"
                            + " --user-name " + IamUserStackAccess.USER_NAME + " --access-key-id " + keyId
                            + ") and apply again.",
                    null,
                    new KeyState.Applied(keyId).toJson());
            return;
        }
        context.applied(
                change,
                "created the access key " + keyId + " and handed it to the accessKeySink",
                new KeyState.Applied(keyId).toJson());
    }

    /** @return the user's key ids when the change was planned; null for a plan made before they were recorded */
    static @Nullable List<String> keysBefore(Change change) {
        return KeyState.fromJson(change.targetState()).keysBefore();
    }

    /**
     * CreateAccessKey takes no idempotency token, and a key's secret is only in its answer: a key whose answer was
     * lost is of no use to anyone and takes one of the user's two key slots. So before a retry, and after a last
     * attempt that failed in any way (its answer may have been lost, or a retry refused after one landed), the keys the user did not have just before this apply ({@code before}) are deleted:
     * the user belongs to CloudAEye's stack, and only this apply adds keys to it.
     */
    private static CreateAccessKeyResponse createKeyOnce(IamClient iam, ApplyContext context, List<String> before) {
        AtomicBoolean sent = new AtomicBoolean();
        try {
            return context.scheduler().call(EksQuotas.IAM, () -> {
                if (sent.getAndSet(true)) {
                    deleteKeysNotIn(iam, before);
                }
                return iam.createAccessKey(r -> r.userName(IamUserStackAccess.USER_NAME));
            });
        } catch (RuntimeException e) {
            // Any error, not only a lost answer: a retry of an attempt that landed may be refused (access denied).
            try {
                deleteKeysNotIn(iam, context, before);
            } catch (RuntimeException cleanup) {
                throw AwsFailures.outcomeUnknown(
                        "CreateAccessKey for the user " + IamUserStackAccess.USER_NAME,
                        e,
                        cleanup,
                        "delete any key of " + IamUserStackAccess.USER_NAME + " other than "
                                + (before.isEmpty() ? "none" : String.join(", ", before))
                                + " (its secret is lost) and apply again, or roll back");
            }
            throw e;
        }
    }

    /** @return the keys deleted: those of the user that are not in {@code keep} */
    private static List<String> deleteKeysNotIn(IamClient iam, List<String> keep) {
        List<String> deleted = new ArrayList<>();
        for (AccessKeyMetadata key : iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                .accessKeyMetadata()) {
            String id = key.accessKeyId();
            if (!keep.contains(id)) {
                LOG.warn(
                        "Deleting the access key {} of {}: an attempt whose answer was lost created it, and its"
                                + " secret is gone",
                        id,
                        IamUserStackAccess.USER_NAME);
                iam.deleteAccessKey(
                        r -> r.userName(IamUserStackAccess.USER_NAME).accessKeyId(id));
                deleted.add(id);
            }
        }
        return deleted;
    }

    /**
     * As {@link #deleteKeysNotIn(IamClient, List)}, each call through the scheduler and each deletion read back after
     * an error ({@link #deleteKey}).
     */
    private static void deleteKeysNotIn(IamClient iam, ApplyContext context, List<String> keep) {
        List<AccessKeyMetadata> keys = context.scheduler()
                .call(
                        EksQuotas.IAM,
                        () -> iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                                .accessKeyMetadata());
        for (AccessKeyMetadata key : keys) {
            if (!keep.contains(key.accessKeyId())) {
                LOG.warn(
                        "Deleting the access key {} of {}: an attempt whose answer was lost created it, and its"
                                + " secret is gone",
                        key.accessKeyId(),
                        IamUserStackAccess.USER_NAME);
                deleteKey(iam, context, key.accessKeyId());
            }
        }
    }

    /**
     * Deletes one access key of CloudAEye's user. After any error the user's keys are read back ({@link ReadBack}): a
     * key that is gone was deleted (a retry of an attempt that landed may have been refused).
     *
     * @throws RuntimeException the call's error when the key is still there, or an {@link
     *     com.cloudaeye.agent.spi.support.OutcomeUnknownException} when the keys could not be read back
     */
    static void deleteKey(IamClient iam, ApplyContext context, String id) {
        String user = IamUserStackAccess.USER_NAME;
        try {
            context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.deleteAccessKey(r -> r.userName(user).accessKeyId(id)));
            LOG.info("Deleted the access key {} of {}", id, user);
        } catch (NoSuchEntityException gone) {
            LOG.debug("The access key {} was already deleted", id);
        } catch (RuntimeException e) {
            ReadBack.confirm("DeleteAccessKey " + id + " of the user " + user, e, () -> {
                try {
                    return context
                                    .scheduler()
                                    .call(EksQuotas.IAM, () -> iam.listAccessKeys(r -> r.userName(user)))
                                    .accessKeyMetadata()
                                    .stream()
                                    .noneMatch(k -> id.equals(k.accessKeyId()))
                            ? Optional.of(id)
                            : Optional.<String>empty();
                } catch (NoSuchEntityException noUser) {
                    return Optional.of(id);
                }
            });
            LOG.info("Deleted the access key {} of {} (read back after {})", id, user, AwsFailures.describe(e));
        }
    }

    /**
     * Deletes the user's keys the change names, and reports the change.
     *
     * @return true when every key is deleted (the change is applied); false when it is failed or unknown, so that the
     *     stack, whose user CloudFormation cannot delete while it has keys, is not touched
     */
    static boolean deleteKeys(Change change, ApplyContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        List<String> keys = KeyState.fromJson(change.targetState()).keys();
        List<String> ids = keys == null ? List.of() : keys;
        context.starting(change);
        List<String> deleted = new ArrayList<>();
        try {
            for (String id : ids) {
                deleteKey(iam, context, id);
                deleted.add(id);
            }
        } catch (RuntimeException e) {
            if (deleted.isEmpty()) {
                AwsFailures.report(
                        context,
                        change,
                        "Deleting the access keys of " + IamUserStackAccess.USER_NAME + " failed: "
                                + AwsFailures.describe(e),
                        e);
            } else {
                context.unknown(
                        change,
                        "Deleting the access keys of " + IamUserStackAccess.USER_NAME + " failed after it deleted "
                                + deleted + ": " + AwsFailures.describe(e) + "; plan again to see where it stands",
                        e,
                        null);
            }
            return false;
        }
        context.applied(change, "deleted the access keys " + String.join(", ", deleted), null);
        return true;
    }

    /** @return the user's keys, or empty when the user does not exist */
    static Optional<List<AccessKeyMetadata>> listKeys(TargetContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        try {
            return Optional.of(context.scheduler()
                    .call(EksQuotas.IAM, () -> iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME)))
                    .accessKeyMetadata());
        } catch (NoSuchEntityException e) {
            return Optional.empty();
        }
    }
}
