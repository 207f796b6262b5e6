package io.keymeter.app;

import io.keymeter.kafka.EmbeddedKafkaStartException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A start that stops on the embedded broker's data directory or port being taken prints what is wrong and what to
 * do, as Spring Boot does for a web port in use, instead of a hundred lines of stack trace around the one that says
 * it (registered in {@code META-INF/spring.factories}; the trace is logged at DEBUG).
 */
class StartupFailureAnalyzer extends AbstractFailureAnalyzer<EmbeddedKafkaStartException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, EmbeddedKafkaStartException cause) {
        return new FailureAnalysis(cause.problem(), cause.action(), cause);
    }
}
