package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsQuotas;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EvaluationResult;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.PolicyEvaluationDecisionType;
import software.amazon.awssdk.services.iam.model.ResourceSpecificResult;
import software.amazon.awssdk.services.iam.model.SimulatePrincipalPolicyResponse;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Checks the caller's IAM permissions against a plan before anything changes: {@code sts:GetCallerIdentity} names
 * the caller (an assumed-role session is simulated as its role), then {@code iam:SimulatePrincipalPolicy} evaluates
 * every needed action on exactly its resources. Only read calls.
 */
public final class Preflight {
    /** STS's documented default request quota per account and region. */
    public static final Quota STS = new Quota("sts", 600);

    /** IAM's account-wide control plane, shared with the targets that call IAM. */
    public static final Quota IAM = AwsQuotas.IAM;

    private static final Logger LOG = LoggerFactory.getLogger(Preflight.class);
    private static final Pattern ASSUMED_ROLE = Pattern.compile("arn:([^:]+):sts::(\\d{12}):assumed-role/([^/]+)/.*");
    private static final Pattern ROOT = Pattern.compile("arn:[^:]+:iam::\\d{12}:root");
    private static final Pattern FEDERATED = Pattern.compile("arn:[^:]+:sts::\\d{12}:federated-user/.*");
    /** How many resources one simulation names; the results are their product with the actions. */
    private static final int RESOURCES_PER_CALL = 50;

    private final TargetContext context;
    private final CallScheduler scheduler;
    private volatile @Nullable Principal principal;

    /**
     * The caller as IAM evaluates it.
     *
     * @param arn the IAM user or role ARN to simulate; null for the account's root user, which IAM cannot simulate
     * @param callerArn what {@code GetCallerIdentity} returned
     * @param permissions what finding and simulating it needs
     */
    public record Principal(@Nullable String arn, String callerArn, List<Permission> permissions) {}

    /** @param context clients and scheduler */
    public Preflight(TargetContext context) {
        this.context = context;
        this.scheduler = context.scheduler();
    }

    /**
     * Finds the caller once. {@code sts:GetCallerIdentity} needs no permission (AWS allows it even under an explicit
     * deny), so only {@code iam:SimulatePrincipalPolicy} on the principal, and {@code iam:GetRole} on a role whose
     * path is not in the session ARN, appear in {@link Principal#permissions()}.
     *
     * @return the principal
     */
    public Principal principal() {
        Principal p = principal;
        if (p == null) {
            p = resolve();
            principal = p;
        }
        return p;
    }

    private Principal resolve() {
        StsClient sts = context.client(StsClient.class, StsClient::builder);
        String caller = scheduler.call(STS, sts::getCallerIdentity).arn();
        if (ROOT.matcher(caller).matches()) {
            return new Principal(null, caller, List.of());
        }
        if (FEDERATED.matcher(caller).matches()) {
            throw new AgentException("The caller " + caller + " is a federated user, which IAM cannot simulate: run"
                    + " the preflight as an IAM user or role, or turn it off with preflight(false).");
        }
        Matcher m = ASSUMED_ROLE.matcher(caller);
        if (!m.matches()) {
            return new Principal(caller, caller, List.of(Permission.of("iam:SimulatePrincipalPolicy", caller)));
        }
        String role = "arn:" + m.group(1) + ":iam::" + m.group(2) + ":role/" + m.group(3);
        try {
            simulate(role, List.of("sts:GetCallerIdentity"), List.of("*"));
            return new Principal(role, caller, List.of(Permission.of("iam:SimulatePrincipalPolicy", role)));
        } catch (NoSuchEntityException withPath) {
            // The session ARN leaves out the role's path: ask IAM for the full ARN.
            IamClient iam = context.client(IamClient.class, IamClient::builder);
            String full = scheduler
                    .call(IAM, () -> iam.getRole(r -> r.roleName(m.group(3))))
                    .role()
                    .arn();
            LOG.debug("Role {} has a path: simulating {}", role, full);
            return new Principal(
                    full,
                    caller,
                    List.of(Permission.of("iam:GetRole", full), Permission.of("iam:SimulatePrincipalPolicy", full)));
        }
    }

    /**
     * @param needed the permissions to check
     * @return those the principal is not allowed, sorted; empty for the root user
     */
    public SortedSet<Permission> missing(Collection<Permission> needed) {
        Principal p = principal();
        SortedSet<Permission> missing = new TreeSet<>();
        if (p.arn() == null) {
            LOG.warn("The caller is the account's root user, which IAM cannot simulate: the preflight assumes it may"
                    + " do everything (service control policies can still deny)");
            return missing;
        }
        // One simulation per set of actions that share their resources, so the results are exactly the pairs asked.
        Map<String, SortedSet<String>> actionsByResource = new TreeMap<>();
        needed.forEach(n -> actionsByResource
                .computeIfAbsent(n.resource(), r -> new TreeSet<>())
                .add(n.action()));
        Map<SortedSet<String>, List<String>> resourcesByActions = new java.util.LinkedHashMap<>();
        actionsByResource.forEach((resource, actions) -> resourcesByActions
                .computeIfAbsent(actions, a -> new ArrayList<>())
                .add(resource));
        resourcesByActions.forEach((actions, resources) -> {
            for (int i = 0; i < resources.size(); i += RESOURCES_PER_CALL) {
                List<String> chunk = resources.subList(i, Math.min(resources.size(), i + RESOURCES_PER_CALL));
                Set<Permission> allowed = new HashSet<>();
                for (EvaluationResult r : simulate(p.arn(), List.copyOf(actions), chunk)) {
                    if (!r.resourceSpecificResults().isEmpty()) {
                        for (ResourceSpecificResult rs : r.resourceSpecificResults()) {
                            if (rs.evalResourceDecision() == PolicyEvaluationDecisionType.ALLOWED) {
                                allowed.add(Permission.of(r.evalActionName(), rs.evalResourceName()));
                            }
                        }
                    } else if (r.evalDecision() == PolicyEvaluationDecisionType.ALLOWED) {
                        allowed.add(Permission.of(r.evalActionName(), r.evalResourceName()));
                    }
                }
                // Whatever the simulator did not answer as allowed counts as missing, never as granted.
                for (String action : actions) {
                    for (String resource : chunk) {
                        Permission wanted = Permission.of(action, resource);
                        if (!allowed.contains(wanted)) {
                            missing.add(wanted);
                        }
                    }
                }
            }
        });
        return missing;
    }

    private List<EvaluationResult> simulate(String principalArn, List<String> actions, List<String> resources) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        List<EvaluationResult> results = new ArrayList<>();
        String marker = null;
        do {
            String page = marker;
            SimulatePrincipalPolicyResponse response = scheduler.call(
                    IAM,
                    () -> iam.simulatePrincipalPolicy(r -> r.policySourceArn(principalArn)
                            .actionNames(actions)
                            .resourceArns(resources)
                            .maxItems(1000)
                            .marker(page)));
            results.addAll(response.evaluationResults());
            marker = Boolean.TRUE.equals(response.isTruncated()) ? response.marker() : null;
        } while (marker != null);
        return results;
    }
}
