package com.cloudaeye.agent;

/**
 * The apply journal could not be written. Thrown by {@link com.cloudaeye.agent.spi.ApplyContext#starting} before a
 * change's first mutation (the change is then not made), and by {@link AgentInstaller#apply(Plan)} as the cause of an
 * {@link ApplyException} when a line after a mutation could not be written (the result still says what was applied,
 * though the journal does not). Free disk space or choose another directory with {@code journalDirectory(...)}. With
 * an {@link S3JournalStore} it also means that another worker owns the journal (its lease is live, or it took the
 * journal over): the message names that worker.
 */
public class JournalException extends AgentException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message which journal, what failed, and the fix
     * @param cause the I/O error
     */
    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }
}
