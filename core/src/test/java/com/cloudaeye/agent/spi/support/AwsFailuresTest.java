package com.cloudaeye.agent.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/** The words of an unknown outcome say what happened to the call, that the read-back failed, and what to do. */
class AwsFailuresTest {
    private static final String CALL = "DeleteStack arn:aws:cloudformation:us-east-1:123456789012:stack/S/1";

    private static AwsServiceException aws(int status, String code, String message) {
        return AwsServiceException.builder()
                .statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder()
                        .errorCode(code)
                        .errorMessage(message)
                        .build())
                .build();
    }

    private final AwsServiceException readDenied = aws(403, "AccessDenied", "may not DescribeStacks");

    @Test
    void outcomeUnknown_afterARefusal_saysItWasRefused_notThatItGotNoAnswer() {
        OutcomeUnknownException e = AwsFailures.outcomeUnknown(
                CALL,
                new CompletionException(aws(403, "AccessDenied", "may not DeleteStack")),
                readDenied,
                ReadBack.FIX);

        assertThat(e.getMessage())
                .startsWith(
                        AwsFailures.OUTCOME_UNKNOWN + ": " + CALL + " was refused (AccessDenied: may not DeleteStack)")
                .contains("retry", "reading it back failed too (AccessDenied: may not DescribeStacks)", ReadBack.FIX)
                .doesNotContain("no answer");
        assertThat(e.getCause()).isInstanceOf(AwsServiceException.class);
        assertThat(e.getSuppressed()).containsExactly(readDenied);
    }

    @Test
    void outcomeUnknown_afterALostAnswer_saysItGotNoAnswer() {
        SdkClientException lost = SdkClientException.create("Unable to execute HTTP request", new IOException("reset"));

        OutcomeUnknownException e = AwsFailures.outcomeUnknown(CALL, lost, readDenied, ReadBack.FIX);

        assertThat(e.getMessage())
                .startsWith(
                        AwsFailures.OUTCOME_UNKNOWN + ": " + CALL + " got no answer (Unable to execute HTTP request")
                .contains("reading it back failed too", "roll back");
    }

    @Test
    void outcomeUnknown_afterAServerError_saysItFailedWithAServerError() {
        OutcomeUnknownException e =
                AwsFailures.outcomeUnknown(CALL, aws(500, "InternalFailure", "oops"), readDenied, ReadBack.FIX);

        assertThat(e.getMessage())
                .contains(CALL + " failed with a server error (InternalFailure: oops)")
                .contains("reading it back failed too");
        assertThat(AwsFailures.isOutcomeUnknown(new CompletionException(e))).isTrue();
    }
}
