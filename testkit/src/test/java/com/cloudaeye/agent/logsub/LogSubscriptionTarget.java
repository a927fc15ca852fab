package com.cloudaeye.agent.logsub;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.logsub.internal.Selection;
import com.cloudaeye.agent.logsub.internal.SubscriptionPlanner;
import com.cloudaeye.agent.logsub.internal.SubscriptionService;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Subscribes CloudWatch Logs log groups to a destination (e.g. CloudAEye's log-forwarding Lambda function) with a
 * subscription filter named {@value #FILTER_NAME}; uninstall removes that filter; rollback restores what was there.
 *
 * <pre>{@code
 * AgentInstaller.builder()...target(LogSubscriptionTarget.builder()
 *         .logGroups("/aws/lambda/orders-*")
 *         .destination("arn:aws:lambda:us-east-1:123456789012:function:cloudaeye-forwarder")
 *         .build())
 * }</pre>
 */
public final class LogSubscriptionTarget implements Target {
    /** The target's name in plans and journals. */
    public static final String NAME = "logsub";
    /** The name of the subscription filter the installer owns in each log group. */
    public static final String FILTER_NAME = "cloudaeye-agent";

    private final Selection selection;

    private LogSubscriptionTarget(Selection selection) {
        this.selection = selection;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        return new SubscriptionPlanner(context).install(selection);
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        return new SubscriptionPlanner(context).uninstall(selection);
    }

    /** @return the service that applies and rolls back this target's changes: everything it needs is in them */
    @Override
    public TargetService service() {
        return new SubscriptionService();
    }

    /** Builds a {@link LogSubscriptionTarget}; validation happens in {@link #build()}. */
    public static final class Builder {
        private final List<String> logGroups = new ArrayList<>();
        private @Nullable String destination;
        private String filterPattern = "";

        private Builder() {}

        /**
         * @param namesOrGlobs log group names or globs ({@code *}, {@code ?}); replaces what was set before
         * @return this
         */
        public Builder logGroups(String... namesOrGlobs) {
            logGroups.clear();
            return addLogGroups(namesOrGlobs);
        }

        /**
         * @param namesOrGlobs more log group names or globs
         * @return this
         */
        public Builder addLogGroups(String... namesOrGlobs) {
            logGroups.addAll(List.of(namesOrGlobs));
            return this;
        }

        /**
         * @param arn where the filter sends the log events: a Lambda function, Kinesis or Firehose stream ARN
         * @return this
         */
        public Builder destination(String arn) {
            this.destination = arn;
            return this;
        }

        /**
         * @param pattern the CloudWatch Logs filter pattern (default empty: every event)
         * @return this
         */
        public Builder filterPattern(String pattern) {
            this.filterPattern = pattern;
            return this;
        }

        /**
         * @return the target
         * @throws ConfigurationException when no log group or no destination ARN is set
         */
        public LogSubscriptionTarget build() {
            if (logGroups.isEmpty()) {
                throw new ConfigurationException(
                        "No log group selected: call logGroups(\"/aws/lambda/*\") or name" + " the groups.");
            }
            String d = destination;
            if (d == null || !d.startsWith("arn:")) {
                throw new ConfigurationException("destination must be an ARN (a Lambda function, Kinesis or Firehose"
                        + " stream), got " + d + ": call destination(\"arn:aws:lambda:...:function:name\").");
            }
            return new LogSubscriptionTarget(new Selection(logGroups, d, filterPattern));
        }
    }
}
