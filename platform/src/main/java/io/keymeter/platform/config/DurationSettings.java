package io.keymeter.platform.config;

import io.keymeter.kafka.StartupRefusedException;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Refuses a Keymeter duration given as a bare number other than zero, or as no duration at all. Spring reads
 * {@code 35} as 35 milliseconds, so {@code keymeter.ingest.max-age=35} (35 days meant) started, and every request was refused as older than
 * {@code PT0.035S}; nothing said why until requests came. Checked once, before the data directory is taken, for
 * every duration Keymeter reads, however it reads it (its properties record, {@code @Value}, the environment).
 */
@Component(DurationSettings.BEAN)
public class DurationSettings {

    public static final String BEAN = "durationSettings";

    /** Every duration setting of Keymeter's (README, Configuration). */
    static final List<String> NAMES = List.of("keymeter.verify.max-staleness", "keymeter.keys.min-lifetime",
            "keymeter.keys.max-lifetime", "keymeter.keys.expiring-notice", "keymeter.keys.forget-after",
            "keymeter.ingest.max-future-skew", "keymeter.ingest.max-age", "keymeter.metering.dedupe-window",
            "keymeter.metering.join-grace", "keymeter.billing.close-grace", "keymeter.billing.adjustment-interval",
            "keymeter.credentials.commit-interval",
            "keymeter.ingest.publish.timeout", "keymeter.streams.commit-interval");

    private static final Pattern BARE_NUMBER = Pattern.compile("\\s*[+-]?\\d+(\\.\\d*)?\\s*");

    public DurationSettings(Environment environment) {
        for (String name : NAMES) {
            String value = environment.getProperty(name);
            if (value == null) {
                continue;
            }
            if (BARE_NUMBER.matcher(value).matches()) {
                if (!isZero(value)) {
                    throw new StartupRefusedException(name + " is " + value.strip() + ", a number without a unit,"
                            + " which would be read as milliseconds.", "Give it its unit: 35d or P35D (days), 2h or"
                            + " PT2H (hours), 5m or PT5M (minutes), 10s or PT10S (seconds), 500ms or PT0.5S.");
                }
            } else if (!parses(value)) {
                // those read with @Value failed with a trace naming a constructor parameter, not the setting
                // "close-grace is , not a duration" said nothing of an empty value
                throw new StartupRefusedException(name + (value.isBlank() ? " is empty" : " is " + value.strip())
                        + ", not a duration.",
                        "Write it as 35d or P35D (days), 2h or PT2H (hours), 5m or PT5M (minutes), 10s or PT10S"
                                + " (seconds), 500ms or PT0.5S.");
            }
        }
    }

    private static boolean parses(String value) {
        try {
            DurationStyle.detectAndParse(value.strip());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A bare number that is zero, zero in any unit: {@code commit-interval=0}, {@code join-grace=0} mean what they say. */
    private static boolean isZero(String number) {
        return number.strip().replaceAll("[+\\-.0]", "").isEmpty();
    }
}
