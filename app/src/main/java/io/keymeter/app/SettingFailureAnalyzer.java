package io.keymeter.app;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A setting a role refuses as it reads it ({@code keymeter.billing.currency}, a catalog entry,
 * {@code keymeter.verify.max-staleness}, {@code keymeter.ingest.body-memory}…: an {@code IllegalArgumentException}
 * whose message begins with the property's name) gets the same short report as {@link StartupFailureAnalyzer}'s,
 * not "Application run failed" and a trace with the sentence in a {@code Caused by:} line. Any other
 * {@code IllegalArgumentException} is left to Spring Boot.
 */
class SettingFailureAnalyzer extends AbstractFailureAnalyzer<IllegalArgumentException> {

    /** What to do about a setting refused. */
    static final String ACTION = "Change it, or leave it out for its default.";

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, IllegalArgumentException cause) {
        String message = cause.getMessage();
        if (message == null || !message.startsWith("keymeter.")) {
            return null;
        }
        return new FailureAnalysis(message.endsWith(".") ? message : message + ".",
                ACTION, cause);
    }
}
