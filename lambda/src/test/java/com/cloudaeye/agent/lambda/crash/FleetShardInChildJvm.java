package com.cloudaeye.agent.lambda.crash;

import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.S3JournalStore;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One worker of a fleet split by account: applies (or resumes) one shard of accounts in us-east-1, with its journals
 * in S3, so that a test can kill it with {@code SIGKILL} and hand the shard to a worker in another JVM. Arguments:
 * {@code apply|resume ENDPOINT BUCKET LEASE_SECONDS RATE OWNER MOTO ACCOUNT=LAYER_ARN...}. AWS calls go to ENDPOINT
 * (a proxy that counts them), the journals straight to MOTO. Prints one {@link ChildJvm#printResult RESULT} line per
 * account-region, then {@code FAILURE account/region: why} per failure.
 */
public final class FleetShardInChildJvm {
    /** The API token the workers install (a test value). */
    public static final String TOKEN = "cae-fleet-shard-token-7d6e5f";
    /** The logs endpoint the workers install. */
    public static final String ENDPOINT = "https://logs.example.cloudaeye.com";
    /** The run's journal prefix. */
    public static final String PREFIX = "runs/shard-1/";
    /** The role the workers assume in each account. */
    public static final String ROLE = "CloudAEyeInstaller";

    private FleetShardInChildJvm() {}

    /**
     * @param args see the class comment
     */
    public static void main(String[] args) {
        Map<String, String> layers = new HashMap<>();
        for (int i = 7; i < args.length; i++) {
            String[] accountLayer = args[i].split("=", 2);
            layers.put(accountLayer[0], accountLayer[1]);
        }
        System.setProperty("moto.endpoint", args[6]); // a child JVM gets no system properties of the test's
        try (S3Client s3 = Moto.s3();
                FleetInstaller fleet = worker(args, s3, layers)) {
            FleetResult result = args[0].equals("apply") ? fleet.apply(fleet.plan()) : fleet.resume();
            result.results().values().forEach(regions -> regions.values().forEach(ChildJvm::printResult));
            result.failures()
                    .forEach((account, regions) -> regions.forEach(
                            (region, why) -> System.out.println("FAILURE " + account + "/" + region + ": " + why)));
        }
    }

    /**
     * @param args the worker's arguments
     * @param s3 the journals' client
     * @param layers the layer of each account of the shard
     * @return a worker of the shard
     */
    public static FleetInstaller worker(String[] args, S3Client s3, Map<String, String> layers) {
        return FleetInstaller.builder()
                .accounts(layers.keySet().toArray(String[]::new))
                .regions(Region.US_EAST_1)
                .roleName(ROLE)
                .sessionName("shard-1")
                .credentialsProvider(Moto.credentials())
                .endpointOverride(URI.create(args[1]))
                .agent(a -> a.logsEndpoint(ENDPOINT).apiToken(Secret.of(TOKEN)))
                .target((account, region) -> LambdaTarget.builder()
                        .functions("shard-*")
                        .layer(Architecture.X86_64, layers.get(account))
                        .build())
                .installer(i -> i.rateLimit("lambda.control-plane", Double.parseDouble(args[4])))
                .journalStore(S3JournalStore.builder()
                        .client(s3)
                        .bucket(args[2])
                        .prefix(PREFIX)
                        .lease(Duration.ofSeconds(Long.parseLong(args[3])))
                        .owner(args[5])
                        .build())
                .maxParallel(2)
                .build();
    }
}
