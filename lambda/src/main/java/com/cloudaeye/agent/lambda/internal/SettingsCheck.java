package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.ConfigurationException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.Architecture;

/** The checks of {@code LambdaTarget.Builder.build()}: each setting's shape, with the fix in the message. */
public final class SettingsCheck {
    private static final Pattern TOKEN_REFERENCE =
            Pattern.compile("arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\\d{12}:(secret:|parameter/)[\\w+=.@/-]+");

    private static final Pattern ALIAS_GLOB = Pattern.compile("[A-Za-z0-9_*?-]{1,128}");

    private SettingsCheck() {}

    /**
     * @param names the function names, ARNs and globs
     * @param excludes the name globs to exclude
     * @throws ConfigurationException when one is malformed
     */
    public static void functions(List<String> names, List<String> excludes) {
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw new ConfigurationException(
                        "An empty function name was given to .functions(...): pass a" + " name, an ARN, or \"*\".");
            }
            if (n.startsWith("arn:")) {
                var m = Arns.FUNCTION.matcher(n);
                if (!m.matches()) {
                    throw new ConfigurationException("'" + n + "' is not a Lambda function ARN: expected"
                            + " arn:aws:lambda:REGION:ACCOUNT:function:NAME.");
                }
                if (m.group(5) != null) {
                    throw new ConfigurationException("'" + n + "' names a version or alias ("
                            + m.group(5).substring(1)
                            + "): the agent is added to $LATEST, so pass the unqualified ARN.");
                }
            } else if (!Arns.NAME_OR_GLOB.matcher(n).matches()) {
                throw new ConfigurationException("'" + n + "' is not a Lambda function name: use 1 to 64"
                        + " letters, digits, '-' or '_' (and '*' or '?' as wildcards), or a function ARN.");
            }
        }
        for (String e : excludes) {
            if (e == null || e.isBlank()) {
                throw new ConfigurationException(
                        "An empty exclude was given to .exclude(...): pass a function name glob, e.g. \"legacy-*\".");
            }
            if (!Arns.NAME_OR_GLOB.matcher(e).matches()) {
                throw new ConfigurationException("Exclude '" + e + "' is not a function name glob: use letters,"
                        + " digits, '-', '_', '*' and '?'.");
            }
        }
    }

    /**
     * @param layers the layer version per architecture
     * @throws ConfigurationException when none is given, or one is malformed
     */
    public static void layers(Map<Architecture, String> layers) {
        if (layers.isEmpty()) {
            throw new ConfigurationException("No CloudAEye layer given: call .layer(Architecture.X86_64, arn)"
                    + " (and .layer(Architecture.ARM64, arn) for arm64 functions).");
        }
        layers.forEach((arch, arn) -> {
            if (arch == Architecture.UNKNOWN_TO_SDK_VERSION) {
                throw new ConfigurationException(
                        "Unknown architecture for layer " + arn + ": use Architecture.X86_64 or Architecture.ARM64.");
            }
            if (arn == null || !Arns.LAYER_VERSION.matcher(arn).matches()) {
                throw new ConfigurationException("The " + arch + " layer '" + arn + "' is not a layer version"
                        + " ARN: expected arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION.");
            }
        });
    }

    /**
     * @param apiTokenSecretArn the token's secret or parameter, or null
     * @throws ConfigurationException when it is no such ARN
     */
    public static void tokenReference(@Nullable String apiTokenSecretArn) {
        if (apiTokenSecretArn != null
                && !TOKEN_REFERENCE.matcher(apiTokenSecretArn).matches()) {
            throw new ConfigurationException("The API token reference '" + apiTokenSecretArn + "' is not the"
                    + " ARN of a Secrets Manager secret or an SSM parameter: pass e.g."
                    + " arn:aws:secretsmanager:us-east-1:123456789012:secret:cloudaeye-token.");
        }
    }

    /**
     * @param moveAliases the alias names and globs to move
     * @param moveWeightedAliases whether weighted aliases move too
     * @throws ConfigurationException when a name is malformed, or weighted aliases are asked for without aliases
     */
    public static void aliases(List<String> moveAliases, boolean moveWeightedAliases) {
        for (String a : moveAliases) {
            if (a == null || !ALIAS_GLOB.matcher(a).matches()) {
                throw new ConfigurationException("'" + a + "' given to .moveAliases(...) is not an alias name"
                        + " or glob: use 1 to 128 letters, digits, '-' or '_' (and '*' or '?' as wildcards).");
            }
        }
        if (moveWeightedAliases && moveAliases.isEmpty()) {
            throw new ConfigurationException(".moveWeightedAliases(true) moves nothing without"
                    + " .moveAliases(...): name the aliases to move, e.g. .moveAliases(\"live\").");
        }
    }

    /**
     * @param tags the tag filter
     * @throws ConfigurationException when a key or value is missing
     */
    public static void tags(Map<String, String> tags) {
        tags.forEach((k, v) -> {
            if (k == null || k.isBlank() || v == null) {
                throw new ConfigurationException("A tag filter needs a key and a value: .tag(\"team\", \"x\").");
            }
        });
    }
}
