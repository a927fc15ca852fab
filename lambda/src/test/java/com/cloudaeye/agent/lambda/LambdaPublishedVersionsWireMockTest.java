package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.version;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * A plan lists the functions with every published version ({@code FunctionVersion=ALL}) and lists the aliases only
 * of a function with a published version: without one, an alias can serve nothing but {@code $LATEST}, which the
 * update reaches. Where the versions cost more pages than the alias reads they save, it lists the functions again
 * without them and lists every function's aliases.
 */
class LambdaPublishedVersionsWireMockTest {
    private static final String FUNCTIONS = "/2015-03-31/functions/?";

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
        for (String name : List.of("plain", "served", "x")) {
            stubTags(name);
        }
        aws.stubFor(get(urlPathMatching(fn("served") + "/aliases"))
                .atPriority(1)
                .willReturn(okJson("{\"Aliases\":[{\"Name\":\"live\",\"AliasArn\":\"" + arn("served")
                        + ":live\",\"FunctionVersion\":\"1\",\"RevisionId\":\"alias-r1\"}]}")));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    @Test
    void plan_listsTheAliasesOfAFunctionWithAPublishedVersion_only() {
        pageOfEveryVersion(
                null,
                "{\"Functions\":[" + latest("plain") + "," + latest("served") + "," + version("served", "1") + "]}");
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations())
                    .as("each function once, named without the $LATEST qualifier the listing of every version gives")
                    .extracting(Change::resourceId)
                    .containsExactlyInAnyOrder(arn("plain"), arn("served"));
            aws.verify(0, getRequestedFor(urlPathMatching(fn("plain") + "/aliases")));
            aws.verify(1, getRequestedFor(urlPathMatching(fn("served") + "/aliases")));
            assertThat(change(plan, "served").warnings())
                    .anyMatch(w -> w.startsWith("alias live serves version 1, which this change does not touch"));
            assertThat(change(plan, "plain").warnings()).noneMatch(w -> w.startsWith("alias"));
            assertThat(plan.readPermissions())
                    .filteredOn(p -> p.action().equals("lambda:ListAliases"))
                    .containsExactly(Permission.of("lambda:ListAliases", arn("served")));
            aws.verify(0, getRequestedFor(urlPathMatching(FUNCTIONS)).withQueryParam("FunctionVersion", absent()));
        }
    }

    @Test
    void plan_listsTheAliasesOfAFunction_whoseVersionComesOnALaterPage() {
        pageOfEveryVersion(
                null, "{\"Functions\":[" + latest("served") + "," + latest("plain") + "],\"NextMarker\":\"p2\"}");
        pageOfEveryVersion("p2", "{\"Functions\":[" + version("served", "1") + "]}");
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            assertThat(change(plan, "served").warnings())
                    .as("the order of a listing's entries is not documented: its end decides, not the next function")
                    .anyMatch(w -> w.startsWith("alias live serves version 1"));
            aws.verify(0, getRequestedFor(urlPathMatching(fn("plain") + "/aliases")));
        }
    }

    @Test
    void plan_whenTheVersionsCostMorePagesThanTheAliasReadsTheySave_listsTheFunctionsAlone_andEveryFunctionsAliases() {
        // Every function has 49 versions: a page each, and no alias read saved. Four pages to spare, the fifth gives
        // up.
        List<String> names = List.of("f1", "f2", "f3", "f4", "f5");
        for (int page = 0; page < names.size(); page++) {
            String name = names.get(page);
            pageOfEveryVersion(
                    page == 0 ? null : "p" + page,
                    "{\"Functions\":[" + latest(name) + "," + versions(name, 49) + "],\"NextMarker\":" + "\"p"
                            + (page + 1) + "\"}");
        }
        StringBuilder alone = new StringBuilder();
        for (String name : List.of("f1", "f2", "f3", "f4", "f5", "z")) {
            alone.append(alone.length() == 0 ? "" : ",").append(function(name, "r1", "Successful"));
            stubTags(name);
        }
        aws.stubFor(get(urlPathMatching(FUNCTIONS))
                .withQueryParam("FunctionVersion", absent())
                .willReturn(okJson("{\"Functions\":[" + alone + "]}")));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations())
                    .as("every function once, also those the given-up listing had shown")
                    .extracting(Change::resourceId)
                    .containsExactlyInAnyOrder(arn("f1"), arn("f2"), arn("f3"), arn("f4"), arn("f5"), arn("z"));
            aws.verify(0, getRequestedFor(urlPathMatching(FUNCTIONS)).withQueryParam("Marker", equalTo("p5")));
            aws.verify(1, getRequestedFor(urlPathMatching(FUNCTIONS)).withQueryParam("FunctionVersion", absent()));
            aws.verify(6, getRequestedFor(urlPathMatching("/2015-03-31/functions/[^/]+/aliases")));
            assertThat(plan.readPermissions())
                    .filteredOn(p -> p.action().equals("lambda:ListAliases"))
                    .hasSize(6);
        }
    }

    @Test
    void plan_whereOneFunctionsManyVersionsComeFirst_stillListsNoAliasesOfTheFunctionsWithoutVersions() {
        pageOfEveryVersion(
                null, "{\"Functions\":[" + latest("x") + "," + versions("x", 49) + "],\"NextMarker\":\"p2\"}");
        pageOfEveryVersion("p2", "{\"Functions\":[" + versions("x", 50, 49) + "],\"NextMarker\":\"p3\"}");
        pageOfEveryVersion(
                "p3",
                "{\"Functions\":[" + latest("plain") + "," + latest("served") + "," + version("served", "1") + "]}");
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations()).hasSize(3);
            aws.verify(0, getRequestedFor(urlPathMatching(FUNCTIONS)).withQueryParam("FunctionVersion", absent()));
            aws.verify(0, getRequestedFor(urlPathMatching(fn("plain") + "/aliases")));
            aws.verify(1, getRequestedFor(urlPathMatching(fn("x") + "/aliases")));
            aws.verify(1, getRequestedFor(urlPathMatching(fn("served") + "/aliases")));
        }
    }

    @Test
    void uninstallPlan_listsTheAliasesOfAFunctionWithAPublishedVersion_only() {
        String installed = "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]";
        pageOfEveryVersion(
                null,
                "{\"Functions\":[" + latest("plain").replace("\"Layers\":[]", installed) + ","
                        + latest("served").replace("\"Layers\":[]", installed) + "," + version("served", "1")
                        + "]}");
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.planUninstall();

            assertThat(plan.mutations()).hasSize(2);
            aws.verify(0, getRequestedFor(urlPathMatching(fn("plain") + "/aliases")));
            assertThat(change(plan, "served").warnings()).anyMatch(w -> w.startsWith("alias live serves version 1"));
        }
    }

    /**
     * Answers a page of {@code ListFunctions} with every version ({@code FunctionVersion=ALL}).
     *
     * @param marker the page's marker; null for the first page
     * @param body the page as Lambda answers it
     */
    private void pageOfEveryVersion(@Nullable String marker, String body) {
        aws.stubFor(get(urlPathMatching(FUNCTIONS))
                .withQueryParam("FunctionVersion", equalTo("ALL"))
                .withQueryParam("Marker", marker == null ? absent() : equalTo(marker))
                .willReturn(okJson(body)));
    }

    private void stubTags(String name) {
        aws.stubFor(get(urlPathMatching(fn(name)))
                .willReturn(okJson("{\"Configuration\":" + function(name, "r1", "Successful") + ",\"Tags\":{}}")));
    }

    private AgentInstaller installer() {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .withoutJournal()
                .build();
    }

    private static Change change(Plan plan, String name) {
        return plan.changes().stream()
                .filter(c -> c.resourceId().equals(arn(name)))
                .findFirst()
                .orElseThrow();
    }

    /** @return the function's {@code $LATEST} as a listing of every version gives it: a qualified ARN */
    private static String latest(String name) {
        return function(name, "r1", "Successful")
                .replace(":function:" + name + "\"", ":function:" + name + ":$LATEST\"")
                .replace("\"Runtime\"", "\"Version\":\"$LATEST\",\"Runtime\"");
    }

    private static String versions(String name, int count) {
        return versions(name, 1, count);
    }

    /** @return the entries of the function's published versions from..from+count-1, as a listing of every version */
    private static String versions(String name, int from, int count) {
        List<String> entries = new ArrayList<>();
        IntStream.range(from, from + count).forEach(v -> entries.add(version(name, Integer.toString(v))));
        return entries.stream().collect(Collectors.joining(","));
    }

    private static String arn(String name) {
        return "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:" + name;
    }
}
