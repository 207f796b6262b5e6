package io.keymeter.testsupport;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keymeter's own counters and gauges in an {@code /actuator/prometheus} answer, read in tests. */
public final class PrometheusSamples {

    private static final Pattern SAMPLE = Pattern.compile("^(\\w+)\\{([^}]*)} (\\S+)$");
    private static final Pattern OUTCOME = Pattern.compile("outcome=\"([^\"]*)\"");

    private PrometheusSamples() {
    }

    /** Keymeter's samples tagged with an outcome, as {@code name|outcome} → value. */
    public static Map<String, Double> byOutcome(String scrape) {
        Map<String, Double> samples = new HashMap<>();
        for (String line : scrape.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (m.matches() && m.group(1).startsWith("keymeter_")) {
                Matcher outcome = OUTCOME.matcher(m.group(2));
                if (outcome.find()) {
                    samples.put(m.group(1) + "|" + outcome.group(1), Double.parseDouble(m.group(3)));
                }
            }
        }
        return samples;
    }

    /** The value of untagged sample {@code name} (a gauge of Keymeter's own), or empty when it is not listed. */
    public static OptionalDouble untagged(String scrape, String name) {
        return scrape.lines().filter(line -> line.startsWith(name + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(name.length() + 1))).findFirst();
    }

    /** The sum of counter {@code name} over all its outcomes. */
    public static double total(String scrape, String name) {
        return byOutcome(scrape).entrySet().stream().filter(e -> e.getKey().startsWith(name + "|"))
                .mapToDouble(Map.Entry::getValue).sum();
    }
}
