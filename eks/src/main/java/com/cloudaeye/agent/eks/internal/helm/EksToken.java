package com.cloudaeye.agent.eks.internal.helm;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner.AuthLocation;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.regions.PartitionMetadata;
import software.amazon.awssdk.regions.Region;

/**
 * Makes the bearer token that EKS accepts for the IAM identity of the caller, as {@code aws eks get-token} and
 * aws-iam-authenticator ({@code pkg/token/token.go}) do: {@code k8s-aws-v1.} followed by the unpadded base64url of
 * an STS {@code GetCallerIdentity} URL, presigned with SigV4 in the query string, whose signed headers are {@code
 * host} and {@code x-k8s-aws-id: <cluster name>}. EKS accepts the token for 15 minutes from its {@code X-Amz-Date};
 * {@link #current()} makes a new one once the last is 14 minutes old.
 *
 * <p>Tokens are credentials: they are never logged, and {@link Token#toString()} hides the value.
 */
public final class EksToken {
    /** The prefix EKS expects. */
    static final String PREFIX = "k8s-aws-v1.";
    /** The header naming the cluster, signed into the URL. */
    static final String CLUSTER_HEADER = "x-k8s-aws-id";
    /** How long EKS accepts a token after its signing time. */
    static final Duration VALIDITY = Duration.ofMinutes(15);
    /** When a cached token is replaced: a minute before EKS stops accepting it. */
    static final Duration REFRESH_AFTER = Duration.ofMinutes(14);
    /** The presigned URL's own X-Amz-Expires, as aws-iam-authenticator and the AWS CLI set it. */
    static final Duration PRESIGN_EXPIRES = Duration.ofSeconds(60);

    private final String clusterName;
    private final Region region;
    private final IdentityProvider<? extends AwsCredentialsIdentity> credentials;
    private final Clock clock;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
    private @Nullable Token cached;

    /**
     * @param clusterName the EKS cluster's name
     * @param region the cluster's region (the regional STS endpoint signs the token)
     * @param credentials the caller's AWS credentials
     * @param clock the signing clock
     */
    public EksToken(
            String clusterName,
            Region region,
            IdentityProvider<? extends AwsCredentialsIdentity> credentials,
            Clock clock) {
        this.clusterName = clusterName;
        this.region = region;
        this.credentials = credentials;
        this.clock = clock;
    }

    /** @return a token valid for at least one more minute, made anew when the cached one is 14 minutes old */
    public synchronized Token current() {
        Instant now = clock.instant();
        if (cached == null || !now.isBefore(cached.signedAt().plus(REFRESH_AFTER))) {
            cached = create();
        }
        return cached;
    }

    /** @return a new token signed now */
    Token create() {
        Instant signedAt = clock.instant();
        AwsCredentialsIdentity identity = credentials.resolveIdentity().join();
        SdkHttpRequest request = SdkHttpRequest.builder()
                .method(SdkHttpMethod.GET)
                .uri(URI.create("https://sts." + region.id() + "." + domain(region) + "/"))
                .putRawQueryParameter("Action", "GetCallerIdentity")
                .putRawQueryParameter("Version", "2011-06-15")
                .putHeader(CLUSTER_HEADER, clusterName)
                .build();
        SignedRequest signed = signer.sign(r -> r.identity(identity)
                .request(request)
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sts")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region.id())
                .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AuthLocation.QUERY_STRING)
                .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, PRESIGN_EXPIRES)
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, clock.getZone())));
        String url = signed.request().getUri().toString();
        String value =
                PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(url.getBytes(StandardCharsets.UTF_8));
        return new Token(value, signedAt, signedAt.plus(VALIDITY));
    }

    private static String domain(Region region) {
        return PartitionMetadata.of(region).dnsSuffix();
    }

    /**
     * An EKS bearer token.
     *
     * @param value the token; never print it
     * @param signedAt its signing time ({@code X-Amz-Date})
     * @param expiresAt when EKS stops accepting it
     */
    public record Token(String value, Instant signedAt, Instant expiresAt) {
        @Override
        public String toString() {
            return "EksToken[signedAt=" + signedAt + ", expiresAt=" + expiresAt + ", value=****]";
        }
    }
}
