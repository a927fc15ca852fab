package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import java.io.PrintStream;

/** Prints progress lines for terminals and jshell: each change's outcome with done/total, rate and time left. */
public final class ConsoleProgressListener implements ProgressListener {
    private final PrintStream out;

    /** @param out where to print */
    public ConsoleProgressListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void started(Plan plan, int total) {
        out.printf(
                "Applying %d change(s) in %s%s%n",
                total, plan.region(), plan.pacing().map(p -> ", pacing: " + p).orElse(""));
    }

    @Override
    public void finished(ResourceResult result, Progress p) {
        long left = p.remainingMillis();
        out.printf(
                "[%d/%d] %s  (%.1f/s, %s left, %d failed)%n",
                p.done(), p.total(), result, p.ratePerSecond(), left < 0 ? "?" : (left / 1000) + "s", p.failed());
    }

    @Override
    public void warning(String message) {
        out.println("warning: " + message);
    }
}
