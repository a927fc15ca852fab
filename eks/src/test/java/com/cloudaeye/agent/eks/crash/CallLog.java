package com.cloudaeye.agent.eks.crash;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Appends {@code Service:Operation} to a file before each HTTP attempt of every AWS client in the JVM, when the
 * system property {@value #PROPERTY} names the file; otherwise does nothing. Installed as an SDK global interceptor
 * (test resource {@code software/amazon/awssdk/global/handlers/execution.interceptors}), so the crash test counts the
 * IAM and CloudFormation requests of both child JVMs, which the throttling proxy sees only as {@code POST /}. Each
 * line is written with its own system call before the request leaves, so a {@code SIGKILL} loses none. Operation
 * names only: never a parameter, so never a secret.
 */
public final class CallLog implements ExecutionInterceptor {
    /** The system property naming the file. */
    public static final String PROPERTY = "cloudaeye.test.call-log";

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        String file = System.getProperty(PROPERTY);
        if (file == null) {
            return;
        }
        String line = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME) + ":"
                + attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME) + "\n";
        try {
            synchronized (CallLog.class) {
                Files.writeString(
                        Path.of(file),
                        line,
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param file a call log
     * @param call {@code Service:Operation}, e.g. {@code Iam:CreateRole}
     * @return how many attempts of that call it records
     */
    public static long count(Path file, String call) {
        if (!Files.exists(file)) {
            return 0;
        }
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.stream().filter(call::equals).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
