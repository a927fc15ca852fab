package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.PartitionMetadata;
import software.amazon.awssdk.regions.Region;

/**
 * The few read calls a fleet makes to discover its accounts and regions ({@code organizations:ListAccounts},
 * {@code ListChildren}, {@code ListAccountsForParent}, {@code ec2:DescribeRegions}), signed with SigV4 and sent over
 * the SDK's HTTP client. The SDK's Organizations module is not served by the registry this project builds from, and
 * EC2's is a 26 MB jar for one call, so these read-only calls are made by hand; errors come back as {@link
 * AwsServiceException}s with AWS's error code, so {@link AwsErrors} describes them like any other. Throttling and
 * server errors are retried with backoff.
 */
public final class SignedCalls implements AutoCloseable {
    private static final Pattern XML_CODE = Pattern.compile("<Code>([^<]*)</Code>");
    private static final Pattern XML_MESSAGE = Pattern.compile("<Message>([^<]*)</Message>");
    private static final Pattern REGION_NAME = Pattern.compile("<regionName>([^<]+)</regionName>");
    private static final int ATTEMPTS = 5;

    private final SdkHttpClient http = UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(30))
            .build();
    private final @Nullable URI endpointOverride;

    /** @param endpointOverride an endpoint for every call (a local emulator), or null for AWS */
    public SignedCalls(@Nullable URI endpointOverride) {
        this.endpointOverride = endpointOverride;
    }

    /**
     * Calls an AWS Organizations operation (JSON 1.1) in the partition of {@code home}.
     *
     * @param credentials the caller (the organization's management account or a delegated administrator)
     * @param home a region of the partition
     * @param operation e.g. {@code ListAccounts}
     * @param request the request body
     * @return the response body
     */
    public JsonNode organizations(
            AwsCredentialsProvider credentials, Region home, String operation, ObjectNode request) {
        PartitionMetadata partition = PartitionMetadata.of(home);
        // Organizations is global, served from one region per partition.
        Region signing = switch (partition.id()) {
            case "aws-cn" -> Region.CN_NORTHWEST_1;
            case "aws-us-gov" -> Region.US_GOV_WEST_1;
            default -> Region.US_EAST_1;
        };
        URI endpoint = endpoint("organizations", signing);
        String body = call(
                credentials,
                endpoint,
                "organizations",
                signing,
                Map.of(
                        "Content-Type",
                        "application/x-amz-json-1.1",
                        "X-Amz-Target",
                        "AWSOrganizationsV20161128." + operation),
                Json.compact(request),
                SignedCalls::jsonError);
        try {
            return Json.parse(body);
        } catch (IOException e) {
            throw SdkClientException.create("organizations:" + operation + " answered with no JSON", e);
        }
    }

    /**
     * {@code ec2:DescribeRegions} without {@code AllRegions}: the regions enabled in the caller's account (those that
     * need no opt-in, and those opted in).
     *
     * @param credentials the account's credentials
     * @param region the region to ask
     * @return the region names, sorted
     */
    public List<String> enabledRegions(AwsCredentialsProvider credentials, Region region) {
        String body = call(
                credentials,
                endpoint("ec2", region),
                "ec2",
                region,
                Map.of("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                "Action=DescribeRegions&Version=" + URLEncoder.encode("2016-11-15", StandardCharsets.UTF_8),
                SignedCalls::xmlError);
        List<String> regions = new ArrayList<>();
        Matcher m = REGION_NAME.matcher(body);
        while (m.find()) {
            regions.add(m.group(1));
        }
        regions.sort(null);
        return regions;
    }

    private URI endpoint(String service, Region region) {
        URI override = endpointOverride;
        if (override != null) {
            return override;
        }
        return URI.create("https://" + service + "." + region.id() + "."
                + PartitionMetadata.of(region).dnsSuffix());
    }

    /** Reads AWS's error code and message from an error response body. */
    private interface ErrorParser {
        String[] codeAndMessage(String body);
    }

    private String call(
            AwsCredentialsProvider credentials,
            URI endpoint,
            String service,
            Region region,
            Map<String, String> headers,
            String body,
            ErrorParser errors) {
        for (int attempt = 1; ; attempt++) {
            SdkHttpFullRequest.Builder request =
                    SdkHttpFullRequest.builder().method(SdkHttpMethod.POST).uri(endpoint);
            headers.forEach(request::putHeader);
            SignedRequest signed = AwsV4HttpSigner.create()
                    .sign(r -> r.identity(credentials.resolveCredentials())
                            .request(request.build())
                            .payload(ContentStreamProvider.fromUtf8String(body))
                            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                            .putProperty(AwsV4HttpSigner.REGION_NAME, region.id()));
            int status;
            String answer;
            try {
                HttpExecuteResponse response = http.prepareRequest(HttpExecuteRequest.builder()
                                .request(signed.request())
                                .contentStreamProvider(signed.payload().orElse(null))
                                .build())
                        .call();
                status = response.httpResponse().statusCode();
                answer = read(response);
            } catch (IOException | UncheckedIOException e) {
                if (attempt < ATTEMPTS) {
                    pause(attempt);
                    continue;
                }
                throw SdkClientException.create(service + " could not be reached at " + endpoint, e);
            }
            if (status / 100 == 2) {
                return answer;
            }
            String[] error = errors.codeAndMessage(answer);
            boolean retryable = status >= 500
                    || status == 429
                    || error[0].contains("Throttl")
                    || error[0].equals("TooManyRequestsException");
            if (retryable && attempt < ATTEMPTS) {
                pause(attempt);
                continue;
            }
            throw AwsServiceException.builder()
                    .statusCode(status)
                    .message(error[1])
                    .awsErrorDetails(AwsErrorDetails.builder()
                            .errorCode(error[0])
                            .errorMessage(error[1])
                            .serviceName(service)
                            .build())
                    .build();
        }
    }

    private static String read(HttpExecuteResponse response) throws IOException {
        var stream = response.responseBody();
        if (stream.isEmpty()) {
            return "";
        }
        try (InputStream in = stream.get()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep((long) (200 * Math.pow(2, attempt - 1) * (0.5 + Math.random())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw SdkClientException.create("interrupted while retrying", e);
        }
    }

    private static String[] jsonError(String body) {
        try {
            JsonNode node = Json.parse(body.isEmpty() ? "{}" : body);
            String type = node.path("__type").asText("Unknown");
            // "com.amazonaws...#AccessDeniedException" names the code after the '#'.
            String code = type.substring(type.indexOf('#') + 1);
            String message = node.has("message")
                    ? node.path("message").asText()
                    : node.path("Message").asText("");
            return new String[] {code, message};
        } catch (IOException e) {
            return new String[] {"Unknown", body};
        }
    }

    private static String[] xmlError(String body) {
        Matcher code = XML_CODE.matcher(body);
        Matcher message = XML_MESSAGE.matcher(body);
        return new String[] {code.find() ? code.group(1) : "Unknown", message.find() ? message.group(1) : body};
    }

    @Override
    public void close() {
        http.close();
    }
}
