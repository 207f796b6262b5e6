package io.keymeter.platform.config;

import java.time.Duration;

/** A configured duration in messages, as its property is written: whole days as {@code P35D}, not {@code PT840H}. */
public final class DurationText {

    private static final long DAY_SECONDS = Duration.ofDays(1).toSeconds();

    private DurationText() {
    }

    public static String of(Duration duration) {
        if (duration.isNegative() && !duration.equals(Duration.ofSeconds(Long.MIN_VALUE))) {
            return "-" + of(duration.negated()); // as written, -PT1S, not Java's PT-1S
        }
        boolean wholeDays = !duration.isZero() && !duration.isNegative() && duration.getNano() == 0
                && duration.toSeconds() % DAY_SECONDS == 0;
        return wholeDays ? "P" + duration.toDays() + "D" : duration.toString();
    }
}
