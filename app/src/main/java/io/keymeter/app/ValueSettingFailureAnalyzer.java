package io.keymeter.app;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.beans.TypeMismatchException;
import org.springframework.beans.factory.InjectionPoint;
import org.springframework.beans.factory.UnsatisfiedDependencyException;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A Keymeter setting read with {@code @Value} that cannot be converted ({@code keymeter.ingest.body-memory=abc},
 * {@code keymeter.ingest.publish.producers=four}) is named in a short report: Spring's trace named a constructor
 * parameter ("Unsatisfied dependency expressed through constructor parameter 0"), not the setting. The settings bound
 * to Keymeter's properties record get Spring Boot's own report.
 */
class ValueSettingFailureAnalyzer extends AbstractFailureAnalyzer<TypeMismatchException> {

    private static final Pattern SETTING = Pattern.compile("\\$\\{(keymeter\\.[^:}]+)");

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, TypeMismatchException cause) {
        String setting = null;
        for (Throwable t = rootFailure; t != null && t != cause; t = t.getCause()) {
            if (t instanceof UnsatisfiedDependencyException unsatisfied) { // the innermost names the @Value read
                setting = settingOf(unsatisfied.getInjectionPoint());
            }
        }
        if (setting == null) {
            return null;
        }
        String type = cause.getRequiredType() == null ? "its type" : cause.getRequiredType().getSimpleName();
        return new FailureAnalysis(setting + " is " + cause.getValue() + ", which cannot be read as " + type + ".",
                SettingFailureAnalyzer.ACTION, cause);
    }

    private static String settingOf(InjectionPoint point) {
        Value value = point == null ? null : point.getAnnotation(Value.class);
        if (value == null) {
            return null;
        }
        Matcher matcher = SETTING.matcher(value.value());
        return matcher.find() ? matcher.group(1) : null;
    }
}
