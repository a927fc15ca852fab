package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The caller's listener, called so that its exceptions never reach a target or the apply: a listener runs inside a
 * target's report of an outcome, and its bug must not turn a change that landed into an error, nor stop the apply
 * between a mutation and its journal line. The first exception is logged with its stack trace, later ones briefly.
 */
final class GuardedListener implements ProgressListener {
    private static final Logger LOG = LoggerFactory.getLogger(GuardedListener.class);

    private final ProgressListener listener;
    private final AtomicBoolean logged = new AtomicBoolean();

    GuardedListener(ProgressListener listener) {
        this.listener = listener;
    }

    @Override
    public void started(Plan plan, int total) {
        try {
            listener.started(plan, total);
        } catch (RuntimeException e) {
            ignored(e);
        }
    }

    @Override
    public void finished(ResourceResult result, Progress progress) {
        try {
            listener.finished(result, progress);
        } catch (RuntimeException e) {
            ignored(e);
        }
    }

    @Override
    public void warning(String message) {
        try {
            listener.warning(message);
        } catch (RuntimeException e) {
            ignored(e);
        }
    }

    private void ignored(RuntimeException e) {
        if (logged.compareAndSet(false, true)) {
            LOG.warn("The progress listener threw; the apply goes on and ignores it (only this one is shown)", e);
        } else {
            LOG.debug("The progress listener threw again: {}", e.toString());
        }
    }
}
