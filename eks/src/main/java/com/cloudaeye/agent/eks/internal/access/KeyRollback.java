package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.List;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;

/**
 * Plans the rollback of an access-key change on a stack that existed before the install (a stack the install created
 * is deleted with its user and keys instead): the key the change made goes, never a key the user had before it.
 */
final class KeyRollback {
    private KeyRollback() {}

    /**
     * Which key the change made: the id its apply journaled ({@code appliedState.accessKeyId}) when it applied; else
     * (its CreateAccessKey answer was lost, the apply was killed between the request and its answer, or it failed after
     * the key landed) the user's live keys that are not in the change's {@link KeyState#keysBefore()}. Only the
     * installer adds keys to CloudAEye's user, and only through this change, so such a key is the change's own, whose
     * secret never reached the sink (the apply's resume relies on the same). A change from a plan that did not record
     * {@code keysBefore} is skipped with what to delete by hand.
     *
     * @param journaled a journaled key change
     * @param context clients
     * @return a DELETE of those keys, a NO_OP when there is none (any more), or a SKIP
     */
    static Change plan(JournaledChange journaled, TargetContext context) {
        Change c = journaled.change();
        String user = IamUserStackAccess.USER_NAME;
        Change.Builder out = Change.builder()
                .target(c.target())
                .resourceType(c.resourceType())
                .resourceId(c.resourceId());
        if (c.resourceType().equals(IamUserStackAccess.STACK_TYPE) && c.action() == ChangeAction.UPDATE) {
            return out.action(ChangeAction.SKIP)
                    .reason("The install attached the policy " + IamUserStackAccess.POLICY_NAME + " to "
                            + user + " again, which an interrupted uninstall had detached: detaching it would only"
                            + " break CloudAEye's access to a stack that stays. Uninstall to remove the stack.")
                    .build();
        }
        if (!c.resourceType().equals(IamUserStackAccess.KEY_TYPE) || c.action() != ChangeAction.CREATE) {
            return out.action(ChangeAction.SKIP)
                    .reason("A deletion of CloudAEye's stack or keys is not undone (a key's secret is gone with it):"
                            + " plan an install again.")
                    .build();
        }
        String keyId = KeyState.Applied.keyId(journaled.state()).orElse(null);
        if (keyId != null) {
            return liveKeys(context).contains(keyId)
                    ? delete(out, c, List.of(keyId), "Deletes the access key " + keyId + " the install created")
                    : out.action(ChangeAction.NO_OP)
                            .reason("The access key " + keyId + " the install created is already deleted.")
                            .build();
        }
        List<String> before = UserAccessKeys.keysBefore(c);
        if (before == null) {
            return out.action(ChangeAction.SKIP)
                    .reason("The install's key change journaled no id of a key it made, and its plan (from an older"
                            + " version) did not record the user's keys before it, so which key it made is not known:"
                            + " a key of " + user + " that CloudAEye does not hold has a lost secret: delete it with"
                            + " aws iam delete-access-key --user-name " + user + " --access-key-id ID.")
                    .build();
        }
        List<String> made =
                liveKeys(context).stream().filter(id -> !before.contains(id)).toList();
        String had = before.isEmpty() ? "none" : String.join(", ", before);
        if (made.isEmpty()) {
            return out.action(ChangeAction.NO_OP)
                    .reason("The install's key change left no key: " + user + " has only keys it had before (" + had
                            + ").")
                    .build();
        }
        return delete(
                out,
                c,
                made,
                "Deletes the access key " + String.join(", ", made) + " that the install's key change made"
                        + " without journaling it (its answer, with the secret, never reached the installer), the"
                        + " user's only key" + (made.size() == 1 ? "" : "s") + " not there before (" + had + ")");
    }

    /** @return the ids of the user's keys now, sorted; none when the user is gone */
    private static List<String> liveKeys(TargetContext context) {
        return UserAccessKeys.listKeys(context).orElse(List.of()).stream()
                .map(AccessKeyMetadata::accessKeyId)
                .sorted()
                .toList();
    }

    private static Change delete(Change.Builder out, Change c, List<String> ids, String what) {
        return out.action(ChangeAction.DELETE)
                .reason(what + "; the user's other keys stay.")
                .addAttributes(AttributeChange.of("AccessKeys", String.join(", ", ids), null))
                .addPermissions(
                        Permission.of("iam:DeleteAccessKey", c.resourceId()),
                        // Read back after a DeleteAccessKey error.
                        Permission.of("iam:ListAccessKeys", c.resourceId()))
                .targetState(new KeyState(IamUserStackAccess.USER_NAME, null, ids, null).toJson())
                .build();
    }
}
