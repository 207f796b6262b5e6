package io.keymeter.app;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * A token setting Spring cannot bind is named with where it came from, never printed: Spring Boot's reports print
 * the value of each property left unbound or not convertible, and so printed tokens (a list given from index 1 after
 * index 0 was removed, accounts written as one value). First of the analyzers, before Keymeter's own, which print a
 * value too.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
class SecretSettingFailureAnalyzer implements FailureAnalyzer {

    /** The settings that hold tokens, each a list. */
    static final List<String> SECRET = List.of("keymeter.accounts", "keymeter.gateway-tokens");

    static final String ACTION = "Give each list from index 0 up, without a gap, and each account as an id and a token"
            + " (keymeter.accounts[0].id, keymeter.accounts[0].token; keymeter.gateway-tokens[0]): README, Configuration.";

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        TreeMap<String, String> named = new TreeMap<>(); // name -> where it came from
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnboundConfigurationPropertiesException unbound) {
                unbound.getUnboundProperties().forEach(property -> name(property, named));
            } else if (cause instanceof BindException bind) {
                if (bind.getProperty() != null) {
                    name(bind.getProperty(), named);
                } else if (isSecret(bind.getName().toString())) {
                    named.putIfAbsent(bind.getName().toString(), null);
                }
            }
        }
        named.keySet().removeIf(name -> !isSecret(name)); // an enclosing bind names the last setting it bound
        if (named.isEmpty()) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        lines.add("Keymeter cannot read these settings (their values are not shown: they hold tokens):");
        named.forEach((name, origin) -> lines.add("  " + name + (origin == null ? "" : " (" + origin + ")")));
        return new FailureAnalysis(String.join("\n", lines), ACTION, failure);
    }

    private static void name(ConfigurationProperty property, TreeMap<String, String> named) {
        named.putIfAbsent(property.getName().toString(),
                property.getOrigin() == null ? null : property.getOrigin().toString());
    }

    static boolean isSecret(String name) {
        return SECRET.stream().anyMatch(secret -> name.equals(secret) || name.startsWith(secret + "[")
                || name.startsWith(secret + "."));
    }
}
