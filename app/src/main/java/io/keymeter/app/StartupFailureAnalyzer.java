package io.keymeter.app;

import io.keymeter.kafka.StartupRefusedException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A start that Keymeter refuses for a reason the operator can fix (the embedded broker's data directory or port
 * taken, a setting out of range, a token given twice) prints what is wrong and what to do, as Spring Boot does for a
 * web port in use, instead of a hundred lines of stack trace around the one that says it (registered in
 * {@code META-INF/spring.factories}; the trace is logged at DEBUG).
 */
class StartupFailureAnalyzer extends AbstractFailureAnalyzer<StartupRefusedException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, StartupRefusedException cause) {
        return new FailureAnalysis(cause.problem(), cause.action(), cause);
    }
}
