package io.keymeter.kafka;

/**
 * The embedded broker cannot start for a reason the user can fix (its data or port taken by another process): what
 * is wrong and what to do, kept apart so that start-up can print them without a stack trace.
 */
public final class EmbeddedKafkaStartException extends IllegalStateException {

    private final String problem;
    private final String action;

    EmbeddedKafkaStartException(String problem, String action, Throwable cause) {
        super(problem + " " + action, cause);
        this.problem = problem;
        this.action = action;
    }

    public String problem() {
        return problem;
    }

    public String action() {
        return action;
    }
}
