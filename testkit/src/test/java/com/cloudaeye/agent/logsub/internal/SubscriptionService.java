package com.cloudaeye.agent.logsub.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.logsub.LogSubscriptionTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.List;

/**
 * Applies, resumes and rolls back subscription filter changes from what they carry: the service every {@link
 * LogSubscriptionTarget} hands core, and the one {@link java.util.ServiceLoader} makes for a saved plan or a journal.
 */
public final class SubscriptionService implements TargetService {
    /** The provider {@link java.util.ServiceLoader} makes. */
    public SubscriptionService() {}

    @Override
    public String name() {
        return LogSubscriptionTarget.NAME;
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        return new SubscriptionPlanner(context).rollback(journaled);
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        new SubscriptionApplier(context).apply(changes);
    }
}
