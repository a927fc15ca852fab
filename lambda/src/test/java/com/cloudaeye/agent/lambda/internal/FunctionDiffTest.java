package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.ENDPOINT_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_VARIABLE;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.support.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.EnvironmentResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.PackageType;

/** The pure layer and environment diffing of Lambda planning, without AWS: configurations in, changes out. */
class FunctionDiffTest {
    private static final String ACCOUNT = "123456789012";
    private static final String ARN = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:orders";
    private static final String OURS_OLD = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:1";
    private static final String OURS = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:3";
    private static final String USER_LAYER = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:user-tools:7";
    private static final Set<String> OUR_NAMES = Set.of(Arns.layerName(OURS));
    private static final String OTHER_LAYER = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:other:2";
    private static final String ENDPOINT = "https://logs.cloudaeye.example";
    private static final String TOKEN = "token-abc-123";
    private static final AgentSettings AGENT = AgentSettings.builder()
            .logsEndpoint(ENDPOINT)
            .apiToken(Secret.of(TOKEN))
            .build();

    private static FunctionDiff diff(boolean forceEnvironment) {
        return new FunctionDiff(Map.of(Architecture.X86_64, OURS), OUR_NAMES, false, forceEnvironment, null);
    }

    private static FunctionConfiguration function(List<String> layers, Map<String, String> env) {
        List<Layer> sdkLayers = new ArrayList<>();
        layers.forEach(l -> sdkLayers.add(Layer.builder().arn(l).build()));
        return FunctionConfiguration.builder()
                .functionArn(ARN)
                .functionName("orders")
                .runtime("python3.12")
                .packageType(PackageType.ZIP)
                .architectures(Architecture.X86_64)
                .layers(sdkLayers)
                .environment(EnvironmentResponse.builder().variables(env).build())
                .revisionId("rev-1")
                .build();
    }

    private static FunctionState state(Change change) {
        return LambdaStates.functionState(change.targetState());
    }

    @Test
    void install_whenFunctionHasNoAgent_addsTheLayerAndTheVariables() {
        Change change = diff(false).install(function(List.of(USER_LAYER), Map.of("APP", "1")), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
        FunctionState state = state(change);
        assertThat(state.layers()).containsExactly(USER_LAYER, OURS);
        assertThat(state.layersBefore()).containsExactly(USER_LAYER);
        assertThat(state.set()).containsEntry(ENDPOINT_VARIABLE, ENDPOINT).containsKey(TOKEN_VARIABLE);
        // The token is set from the settings at apply time: the plan holds no value for it.
        assertThat(state.set().get(TOKEN_VARIABLE)).isNull();
        assertThat(state.save()).isEmpty();
        assertThat(state.revisionId()).isEqualTo("rev-1");
        assertThat(Json.compact(change.targetState())).doesNotContain(TOKEN);
    }

    @Test
    void install_whenAnOlderVersionOfOurLayerIsThere_replacesItInPlace() {
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);
        Change change =
                diff(false).install(function(List.of(USER_LAYER, OURS_OLD, OTHER_LAYER), env), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(state(change).layers()).containsExactly(USER_LAYER, OURS, OTHER_LAYER);
        assertThat(change.reason().orElse("")).contains("upgrade");
    }

    /**
     * Only an older version of our layer is replaced: a newer one (an install with a later layer, by another team's
     * installer, say) is kept rather than downgraded to the configured version, and the plan says so.
     */
    @Test
    void install_whenANewerVersionOfOurLayerIsThere_keepsIt_insteadOfDowngradingIt() {
        String oursNewer = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:9";
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);

        Change upToDate = diff(false).install(function(List.of(USER_LAYER, oursNewer), env), AGENT, List.of());

        assertThat(upToDate.action()).isEqualTo(ChangeAction.NO_OP);
        assertThat(upToDate.reason().orElse(""))
                .contains(oursNewer + " is newer than the configured " + OURS + ": kept");

        Change newEndpoint = diff(false)
                .install(
                        function(
                                List.of(USER_LAYER, oursNewer, OTHER_LAYER),
                                Map.of(ENDPOINT_VARIABLE, "https://old.example", TOKEN_VARIABLE, TOKEN)),
                        AGENT,
                        List.of());

        assertThat(newEndpoint.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(state(newEndpoint).layers()).containsExactly(USER_LAYER, oursNewer, OTHER_LAYER);
        assertThat(newEndpoint.reason()).hasValue("new settings for the agent already installed (its layer stays)");
    }

    @Test
    void install_whenOnlyTheTokenDiffers_isATokenRotation_namedWithoutTheToken() {
        String oldToken = "old-token-xyz-789";
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, oldToken);

        Change change = diff(false).install(function(List.of(USER_LAYER, OURS), env), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(change.reason())
                .hasValue("token rotation: only the API token of the agent already installed changes (its layer and"
                        + " other settings stay)");
        assertThat(change.toString() + Json.compact(change))
                .doesNotContain(TOKEN)
                .doesNotContain(oldToken);
    }

    @Test
    void install_whenTheLayerIsCurrentButTheEndpointDiffers_saysTheSettingsChange() {
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, "https://old.example", TOKEN_VARIABLE, TOKEN);

        Change change = diff(false).install(function(List.of(OURS), env), AGENT, List.of());

        assertThat(change.reason()).hasValue("new settings for the agent already installed (its layer stays)");
    }

    @Test
    void install_whenInstalledWithTheseSettings_isNoOp() {
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);

        Change change = diff(false).install(function(List.of(OURS), env), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.NO_OP);
    }

    @Test
    void install_whenFiveOtherLayers_skips() {
        List<String> five = new ArrayList<>();
        for (int i = 1; i <= FunctionDiff.MAX_LAYERS; i++) {
            five.add("arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:user" + i + ":1");
        }

        Change change = diff(false).install(function(five, Map.of()), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason().orElse("")).contains("no more than " + FunctionDiff.MAX_LAYERS);
    }

    @Test
    void install_whenTheUserSetsOurVariable_skipsUnlessForced() {
        Map<String, String> env = Map.of(ENDPOINT_VARIABLE, "https://elsewhere.example");
        FunctionConfiguration config = function(List.of(), env);

        Change refused = diff(false).install(config, AGENT, List.of());
        Change forced = diff(true).install(config, AGENT, List.of());

        assertThat(refused.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(refused.reason().orElse("")).contains(ENDPOINT_VARIABLE).contains("forceEnvironment");
        assertThat(forced.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(state(forced).save()).containsExactly(ENDPOINT_VARIABLE);
    }

    @Test
    void install_whenTheEnvironmentWouldPassLambdasLimit_skips() {
        Map<String, String> env = Map.of("BIG", "x".repeat(FunctionDiff.MAX_ENVIRONMENT_BYTES));

        Change change = diff(false).install(function(List.of(), env), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason().orElse("")).contains("4 KB");
    }

    @Test
    void install_whenTheRuntimeIsNotAmongTheLayers_skips() {
        Change change = diff(false).install(function(List.of(), Map.of()), AGENT, List.of("nodejs20.x"));

        assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason().orElse("")).contains("python3.12");
    }

    @Test
    void uninstall_removesOurLayerAndVariables_andRestoresSavedUserValues() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(ENDPOINT_VARIABLE, ENDPOINT);
        env.put(TOKEN_VARIABLE, TOKEN);
        env.put(SAVED_PREFIX + "CLOUDAEYE_LOG_LEVEL", "debug");
        env.put("APP", "1");

        Change change = diff(false).uninstall(function(List.of(USER_LAYER, OURS), env));

        assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
        FunctionState state = state(change);
        assertThat(state.layers()).containsExactly(USER_LAYER);
        assertThat(state.remove()).containsExactlyInAnyOrder(ENDPOINT_VARIABLE, TOKEN_VARIABLE);
        assertThat(state.restore()).containsExactly("CLOUDAEYE_LOG_LEVEL");
        // The removed token is remembered only by its hash.
        assertThat(state.tokenBefore()).isNotNull().isNotEqualTo(TOKEN);
        assertThat(Json.compact(change.targetState())).doesNotContain(TOKEN);
    }

    @Test
    void uninstall_whenTheAgentIsNotInstalled_isNoOp() {
        Change change = diff(false).uninstall(function(List.of(USER_LAYER), Map.of("APP", "1")));

        assertThat(change.action()).isEqualTo(ChangeAction.NO_OP);
    }

    @Test
    void rollback_ofAnAppliedInstall_restoresTheLayersAndRemovesOurVariables() {
        FunctionConfiguration before = function(List.of(USER_LAYER), Map.of("APP", "1"));
        Change installed = diff(false).install(before, AGENT, List.of());
        FunctionConfiguration after = function(
                List.of(USER_LAYER, OURS),
                Map.of(
                        "APP",
                        "1",
                        ENDPOINT_VARIABLE,
                        ENDPOINT,
                        TOKEN_VARIABLE,
                        TOKEN,
                        LambdaTarget.INSTALLED_VARIABLES,
                        TOKEN_VARIABLE + "," + ENDPOINT_VARIABLE));

        Change rollback = new RollbackDiff(OUR_NAMES).rollback(installed, after, null);

        assertThat(rollback.action()).isEqualTo(ChangeAction.UPDATE);
        FunctionState state = state(rollback);
        assertThat(state.layers()).containsExactly(USER_LAYER);
        assertThat(state.remove())
                .containsExactlyInAnyOrder(ENDPOINT_VARIABLE, TOKEN_VARIABLE, LambdaTarget.INSTALLED_VARIABLES);
        assertThat(state.publish()).isFalse();
    }

    @Test
    void rollback_whenTheFunctionChangedSinceTheApply_skips() {
        FunctionConfiguration before = function(List.of(USER_LAYER), Map.of());
        Change installed = diff(false).install(before, AGENT, List.of());
        FunctionConfiguration changed = function(List.of(OURS), Map.of(ENDPOINT_VARIABLE, ENDPOINT));

        Change rollback = new RollbackDiff(OUR_NAMES).rollback(installed, changed, null);

        assertThat(rollback.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(rollback.reason().orElse("")).contains("changed since the apply");
    }

    @Test
    void rollback_whenTheApplyReplacedAToken_restoresItOnlyWithThatToken() {
        Map<String, String> oldEnv = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, "old-token");
        Change installed = diff(false).install(function(List.of(OURS), oldEnv), AGENT, List.of());
        FunctionConfiguration after =
                function(List.of(OURS), Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN));
        RollbackDiff rollbacks = new RollbackDiff(OUR_NAMES);

        Change withoutToken = rollbacks.rollback(installed, after, null);
        Change withOtherToken = rollbacks.rollback(installed, after, Secret.of("unrelated"));
        Change withOldToken = rollbacks.rollback(installed, after, Secret.of("old-token"));

        assertThat(installed.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(withoutToken.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(withOtherToken.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(withOldToken.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(state(withOldToken).set()).containsKey(TOKEN_VARIABLE);
        assertThat(Json.compact(withOldToken.targetState())).doesNotContain("old-token");
    }

    @Test
    void rollback_ofAnAppliedUninstall_restoresTheLayerTheAgentVariablesAndTheSavedUserValue() {
        Map<String, String> installedEnv = new LinkedHashMap<>();
        installedEnv.put("APP", "1");
        installedEnv.put(ENDPOINT_VARIABLE, ENDPOINT);
        installedEnv.put(SAVED_PREFIX + ENDPOINT_VARIABLE, "https://mine.example");
        installedEnv.put(TOKEN_VARIABLE, TOKEN);
        installedEnv.put("CLOUDAEYE_LOG_LEVEL", "debug");
        Change uninstalled = diff(false).uninstall(function(List.of(USER_LAYER, OURS), installedEnv));
        Map<String, String> afterEnv = Map.of("APP", "1", ENDPOINT_VARIABLE, "https://mine.example");
        FunctionConfiguration after = function(List.of(USER_LAYER), afterEnv);

        Change rollback = new RollbackDiff(OUR_NAMES).rollback(uninstalled, after, Secret.of(TOKEN));

        assertThat(rollback.action()).as(rollback.toString()).isEqualTo(ChangeAction.UPDATE);
        FunctionState state = state(rollback);
        assertThat(state.layers()).containsExactly(USER_LAYER, OURS);
        assertThat(UpdateChecks.desiredEnvironment(afterEnv, state, () -> Secret.of(TOKEN)))
                .as("the function as the uninstall found it: the user's value saved again, the agent's re-applied")
                .isEqualTo(installedEnv);
        assertThat(UpdateChecks.changedSincePlanning(ARN, after, state)).isNull();
        assertThat(Json.compact(rollback) + rollback + Json.compact(uninstalled))
                .doesNotContain(TOKEN)
                .doesNotContain("https://mine.example");
    }

    /**
     * A rollback of an uninstall puts the agent's variables back. When the user added variables since, that may take
     * the environment over Lambda's 4 KB limit, which Lambda refuses: the rollback skips the function with the size
     * and the fix, as the install does, instead of planning an update that cannot land.
     */
    @Test
    void rollback_ofAnAppliedUninstall_whenTheEnvironmentWouldPassLambdasLimit_skips_withTheSizeAndTheFix() {
        Map<String, String> installedEnv = Map.of("APP", "1", ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);
        Change uninstalled = diff(false).uninstall(function(List.of(USER_LAYER, OURS), installedEnv));
        // Since the uninstall, the user's variables have grown to just under the limit on their own.
        Map<String, String> grown = Map.of("APP", "1", "BIG", "x".repeat(FunctionDiff.MAX_ENVIRONMENT_BYTES - 40));
        assertThat(FunctionDiff.environmentBytes(grown)).isLessThanOrEqualTo(FunctionDiff.MAX_ENVIRONMENT_BYTES);

        Change rollback = new RollbackDiff(OUR_NAMES)
                .rollback(uninstalled, function(List.of(USER_LAYER), grown), Secret.of(TOKEN));

        assertThat(rollback.action()).as(rollback.toString()).isEqualTo(ChangeAction.SKIP);
        assertThat(rollback.reason().orElse("")).contains("over Lambda's 4 KB limit", "free ", "not restored");
        assertThat(Json.compact(rollback) + rollback).doesNotContain(TOKEN);
    }

    @Test
    void rollback_ofAnAppliedUninstall_withoutTheRemovedToken_isNotRestored_andSaysHow() {
        Map<String, String> installedEnv = Map.of(ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);
        Change uninstalled = diff(false).uninstall(function(List.of(OURS), installedEnv));
        FunctionConfiguration after = function(List.of(), Map.of());
        RollbackDiff rollbacks = new RollbackDiff(OUR_NAMES);

        for (Secret token : new Secret[] {null, Secret.of("another-token-456")}) {
            Change rollback = rollbacks.rollback(uninstalled, after, token);

            assertThat(rollback.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(rollback.reason().orElse(""))
                    .contains(TOKEN_VARIABLE)
                    .contains("not restored")
                    .contains("install");
            assertThat(Json.compact(rollback) + rollback).doesNotContain(TOKEN).doesNotContain("another-token-456");
        }
        Change withToken = rollbacks.rollback(uninstalled, after, Secret.of(TOKEN));
        assertThat(withToken.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(UpdateChecks.desiredEnvironment(Map.of(), state(withToken), () -> Secret.of(TOKEN)))
                .isEqualTo(installedEnv);
        assertThat(Json.compact(withToken) + withToken).doesNotContain(TOKEN);
    }

    @Test
    void install_recordsTheNamesOfTheVariablesItAdds() {
        Change change = diff(false).install(function(List.of(), Map.of("APP", "1")), AGENT, List.of());

        assertThat(state(change).set())
                .containsEntry(LambdaTarget.INSTALLED_VARIABLES, TOKEN_VARIABLE + "," + ENDPOINT_VARIABLE);
    }

    @Test
    void install_whenTheRecordWouldPassLambdasLimit_skips() {
        Map<String, String> agentOnly = Map.of("BIG", "", ENDPOINT_VARIABLE, ENDPOINT, TOKEN_VARIABLE, TOKEN);
        int room = FunctionDiff.MAX_ENVIRONMENT_BYTES - FunctionDiff.environmentBytes(agentOnly);
        Map<String, String> env = Map.of("BIG", "x".repeat(room)); // fits exactly without the record

        Change change = diff(false).install(function(List.of(), env), AGENT, List.of());

        assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason().orElse("")).contains("4 KB");
    }

    @Test
    void uninstall_whenOurLayerWasRemovedFromAnInstallBeforeTheRecord_skipsNamingTheVariablesLeft() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(ENDPOINT_VARIABLE, ENDPOINT);
        env.put(TOKEN_VARIABLE, TOKEN);
        env.put("APP", "1");

        Change change = diff(false).uninstall(function(List.of(USER_LAYER), env));

        assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason().orElse(""))
                .contains(ENDPOINT_VARIABLE + ", " + TOKEN_VARIABLE, LambdaTarget.INSTALLED_VARIABLES, "by hand");
        assertThat(Json.compact(change)).doesNotContain(TOKEN);
        assertThat(diff(false)
                        .uninstall(function(List.of(USER_LAYER), Map.of(ENDPOINT_VARIABLE, ENDPOINT)))
                        .action())
                .as("the endpoint alone is no sign of an install")
                .isEqualTo(ChangeAction.NO_OP);
    }

    @Test
    void uninstall_whenTheUserRemovedOurLayer_removesOnlyTheRecordedVariables() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(ENDPOINT_VARIABLE, ENDPOINT);
        env.put(TOKEN_VARIABLE, TOKEN);
        env.put("CLOUDAEYE_LOG_LEVEL", "debug"); // the user's own, never installed by us
        env.put(LambdaTarget.INSTALLED_VARIABLES, TOKEN_VARIABLE + "," + ENDPOINT_VARIABLE);
        env.put("APP", "1");

        Change change = diff(false).uninstall(function(List.of(USER_LAYER), env));

        assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
        FunctionState state = state(change);
        assertThat(state.layers()).containsExactly(USER_LAYER);
        assertThat(state.remove())
                .containsExactlyInAnyOrder(ENDPOINT_VARIABLE, TOKEN_VARIABLE, LambdaTarget.INSTALLED_VARIABLES);
        assertThat(Json.compact(change)).doesNotContain(TOKEN);
    }
}
