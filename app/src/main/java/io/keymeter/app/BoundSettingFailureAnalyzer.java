package io.keymeter.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationErrors;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.convert.ConversionFailedException;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * A Keymeter setting its properties record refuses ({@code keymeter.catalog.services[0].price-per-1000=-1}) or
 * cannot convert ({@code =abc}) is named as it is written: Spring Boot's report named the record's field
 * ({@code …services[0].pricePer1000}, or {@code price-per1000}), a spelling the README never uses, and a rule checked
 * by a method by that method ({@code validExpiringNotice}). Every setting of the record that its checks refuse is
 * listed, one a line.
 */
@Order(Ordered.HIGHEST_PRECEDENCE + 1) // after SecretSettingFailureAnalyzer: this one prints the value
class BoundSettingFailureAnalyzer extends AbstractFailureAnalyzer<BindException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BindException cause) {
        if (!cause.getName().toString().startsWith("keymeter")) {
            return null;
        }
        BindValidationException invalid = findCause(cause, BindValidationException.class);
        if (invalid != null) {
            return refused(invalid.getValidationErrors(), cause);
        }
        ConversionFailedException conversion = findCause(cause, ConversionFailedException.class);
        Throwable why = conversion == null ? null : conversion.getMostSpecificCause();
        if (why != null && why.getMessage() != null && why.getMessage().startsWith("keymeter.")) {
            return null; // a converter's own words, naming the setting: SettingFailureAnalyzer's
        }
        if (conversion != null && cause.getProperty() != null) {
            String type = cause.getTarget().getType().resolve(Object.class).getSimpleName();
            return new FailureAnalysis(written(cause.getName().toString()) + " is " + shown(cause.getProperty().getValue())
                    + ", which cannot be read as " + type + ".", SettingFailureAnalyzer.ACTION, cause);
        }
        return null;
    }

    /** A value as it reads in a sentence: an empty one said so ("currency is : must be…" said nothing). */
    private static String shown(Object value) {
        return String.valueOf(value).isBlank() ? "empty" : String.valueOf(value);
    }

    private static FailureAnalysis refused(ValidationErrors errors, BindException cause) {
        String prefix = errors.getName().toString();
        List<String> lines = new ArrayList<>();
        for (ObjectError error : errors) {
            String message = error.getDefaultMessage();
            if (message != null && message.startsWith("keymeter.")) {
                lines.add(sentence(message)); // a rule over several fields, which names its settings itself
            } else if (error instanceof FieldError field) {
                String setting = prefix + "." + written(field.getField());
                lines.add(sentence(field.getRejectedValue() == null ? setting + ": " + message
                        : setting + " is " + shown(field.getRejectedValue()) + ": " + message));
            } else {
                lines.add(sentence(prefix + ": " + message));
            }
        }
        return new FailureAnalysis(String.join("\n", lines), SettingFailureAnalyzer.ACTION, cause);
    }

    private static String sentence(String line) {
        return line.endsWith(".") ? line : line + ".";
    }

    /**
     * {@code services[0].pricePer1000}, or Spring's {@code price-per1000}, as the README writes it:
     * {@code services[0].price-per-1000}.
     */
    static String written(String name) {
        return name.replaceAll("(?<=[a-z0-9])(?=[A-Z])", "-").replaceAll("(?<=[a-zA-Z])(?=[0-9])", "-")
                .toLowerCase(Locale.ROOT);
    }
}
