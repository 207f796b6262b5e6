package io.keymeter.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationErrors;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * A Keymeter setting its properties record refuses ({@code keymeter.catalog.services[0].price-per-1000=-1}) is named
 * as it is written: Spring Boot's report named the record's field ({@code …services[0].pricePer1000}), a spelling
 * the README never uses, and a rule checked by a method by that method ({@code validExpiringNotice}). Every refused
 * setting of the record is listed, one a line.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
class BoundSettingFailureAnalyzer extends AbstractFailureAnalyzer<BindValidationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BindValidationException cause) {
        ValidationErrors errors = cause.getValidationErrors();
        String prefix = errors.getName().toString();
        if (!prefix.startsWith("keymeter")) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        for (ObjectError error : errors) {
            String message = error.getDefaultMessage();
            if (message != null && message.startsWith("keymeter.")) {
                lines.add(message); // a rule over several fields, which names its settings itself
            } else if (error instanceof FieldError field) {
                String setting = prefix + "." + dashed(field.getField());
                lines.add(field.getRejectedValue() == null ? setting + ": " + message
                        : setting + " is " + field.getRejectedValue() + ": " + message);
            } else {
                lines.add(prefix + ": " + message);
            }
        }
        return new FailureAnalysis(String.join("\n", lines) + ".", SettingFailureAnalyzer.ACTION, cause);
    }

    /** {@code services[0].pricePer1000} as the README writes it: {@code services[0].price-per-1000}. */
    static String dashed(String field) {
        return field.replaceAll("(?<=[a-z0-9])(?=[A-Z])", "-").replaceAll("(?<=[a-zA-Z])(?=[0-9])", "-")
                .toLowerCase(Locale.ROOT);
    }
}
