package io.keymeter.kafka;

/**
 * Keymeter refuses to start for a reason the operator can fix (the embedded broker's data directory or port taken,
 * a setting out of range, a token given twice): what is wrong and what to do, kept apart so that start-up prints
 * them as a short report, not a stack trace. Defined in the lowest module that refuses a start; the platform and the
 * roles use it too.
 */
public final class StartupRefusedException extends IllegalStateException {

    private final String problem;
    private final String action;

    public StartupRefusedException(String problem, String action) {
        this(problem, action, null);
    }

    public StartupRefusedException(String problem, String action, Throwable cause) {
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
