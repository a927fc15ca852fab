package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.getFunction;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Planning reads the tags of a function found through {@code ListFunctions} (one {@code GetFunction}, for {@link
 * com.cloudaeye.agent.ManagedResources}) while it lists the function's aliases, not after every function's aliases:
 * the aliases take the shared 15/s quota's time, the tags Lambda's 100/s one, so a plan of 100 functions waited about
 * a second more than its aliases needed (issue 17's fleet benchmark).
 */
class LambdaTagReadsWireMockTest {
    /** Long enough for a plan that reads the tags beside the aliases; a plan that reads them after never gets them. */
    private static final long WAIT_SECONDS = 20;

    private final AliasesAfterTags gate = new AliasesAfterTags();
    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start(WireMockConfiguration.options().dynamicPort().extensions(gate));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + function("a", "r1", "Successful") + "]}")));
        aws.stubFor(get(urlPathMatching(fn("a")))
                .willReturn(okJson(getFunction("a", "r1", "Successful")).withTransformers(AliasesAfterTags.NAME)));
        aws.stubFor(get(urlPathMatching(fn("a") + "/aliases"))
                .willReturn(okJson("{\"Aliases\":[]}").withTransformers(AliasesAfterTags.NAME)));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    @Test
    void plan_readsAnUpdatedFunctionsTags_whileItsAliasesAreListed() {
        try (AgentInstaller installer = LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .withoutJournal()
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.changes())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action())
                            .as("the aliases were answered only because the tags had been asked for: %s", plan.notes())
                            .isEqualTo(ChangeAction.UPDATE));
            assertThat(installer.calls())
                    .as("still one read of the tags and one of the aliases")
                    .containsEntry("lambda:GetFunction", 1L)
                    .containsEntry("lambda:ListAliases", 1L);
            aws.verify(1, getRequestedFor(urlPathMatching(fn("a"))));
        }
    }

    /**
     * Holds the answer to {@code ListAliases} until {@code GetFunction} (the tags) was asked for; when it never is,
     * answers the aliases with an error after {@link #WAIT_SECONDS}, which fails the plan.
     */
    static final class AliasesAfterTags implements ResponseDefinitionTransformerV2 {
        static final String NAME = "aliases-after-tags";
        private final CountDownLatch tagsAsked = new CountDownLatch(1);

        @Override
        public ResponseDefinition transform(ServeEvent event) {
            if (!event.getRequest().getUrl().contains("/aliases")) {
                tagsAsked.countDown();
                return event.getResponseDefinition();
            }
            try {
                if (tagsAsked.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    return event.getResponseDefinition();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ResponseDefinitionBuilder.responseDefinition()
                    .withStatus(400)
                    .withHeader("Content-Type", "application/json")
                    .withHeader("x-amzn-ErrorType", "InvalidParameterValueException")
                    .withBody("{\"Type\":\"User\",\"message\":\"the tags were not read while the aliases were\"}")
                    .build();
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        @Override
        public String getName() {
            return NAME;
        }
    }
}
