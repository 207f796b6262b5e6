package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TimestampsTest {

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-26T10:15:30Z", "2026-11-26T10:15:30.1Z", "2026-11-26T10:15:30.123456789Z",
            "2024-02-29T23:59:59.999Z", "2026-11-26T10:15:30+01:00", "2026-12-31T23:59:60Z", "0001-01-01T00:00:00Z",
            "2026-11-26t10:15:30z", "2026-11-26T10:15:30.5-09:30"})
    void acceptsRfc3339AsInstantParseReadsIt(String text) {
        assertThat(Timestamps.parse(text)).isEqualTo(Instant.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-02-30T10:15:30Z", "2026-13-01T10:15:30Z", 
            "2026-11-26T10:15:30.1234567890Z", "2026-11-26 10:15:30Z", "2026-1a-26T10:15:30Z",
            "2026-11-26T10:15:30", "yesterday", ""})
    void refusesWhatInstantParseRefuses(String text) {
        assertThatThrownBy(() -> Instant.parse(text)).isInstanceOf(DateTimeParseException.class);
        assertThatThrownBy(() -> Timestamps.parse(text)).isInstanceOf(DateTimeParseException.class);
        assertThat(Timestamps.parseUtcFast(text)).isNull();
    }

    /** Instant.parse takes these; RFC 3339 does not (hour 24, a point without digits, an offset of 24 hours). */
    @ParameterizedTest
    @ValueSource(strings = {"2026-11-26T24:00:00Z", "2026-11-26T10:15:30.Z", "2026-11-26T10:15:30+24:00",
            "2026-11-26T10:15:30+0100", "+12026-11-26T10:15:30Z", "2026-11-26T10:15Z"})
    void refusesWhatRfc3339Refuses(String text) {
        assertThatThrownBy(() -> Timestamps.parse(text)).isInstanceOf(DateTimeParseException.class);
        assertThat(Timestamps.isRfc3339(text)).isFalse();
    }

    /**
     * A leap second is the last second of a UTC day, whatever offset writes it (RFC 3339 section 5.8's example is
     * {@code 1990-12-31T15:59:60-08:00}): read, as {@link Instant#parse} reads {@code 23:59:60Z}, as 23:59:59Z. The
     * JDK looks for 23:59 in the local time instead: it refused the first three and read {@code 23:59:60+02:00} as
     * 21:59:59 UTC.
     */
    @ParameterizedTest
    @ValueSource(strings = {"1990-12-31T15:59:60-08:00 | 1990-12-31T23:59:59Z",
            "2016-12-31T18:59:60.25-05:00 | 2016-12-31T23:59:59.25Z", "2017-01-01T05:29:60+05:30 | 2016-12-31T23:59:59Z",
            "2016-12-31t23:59:60z | 2016-12-31T23:59:59Z", "2016-12-31T23:59:60-00:00 | 2016-12-31T23:59:59Z"})
    void aLeapSecondIsTheLastSecondOfAUtcDayWhateverItsOffset(String pair) {
        String[] texts = pair.split(" \\| ");
        assertThat(Timestamps.parse(texts[0])).isEqualTo(Instant.parse(texts[1]));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2016-12-31T23:59:60+02:00", "2016-12-31T10:15:60Z", "2016-12-31T23:58:60Z",
            "2016-12-31T18:59:60-05:30"})
    void secondSixtyAnywhereElseIsRefused(String text) {
        assertThatThrownBy(() -> Timestamps.parse(text)).isInstanceOf(DateTimeParseException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-26T10:15:30+01:00", "2026-12-31T23:59:60Z", "2026-11-26T24:00:00Z",
            "2026-11-26T10:15:30.Z", "+12026-11-26T10:15:30Z", "2026-11-26t10:15:30z"})
    void leavesEveryOtherFormToTheSlowPath(String text) {
        assertThat(Timestamps.parseUtcFast(text)).isNull();
    }

    @Test
    void theFastPathReadsWhatInstantWritesAsInstantParseDoes() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            // 1900 to 2100, at second, millisecond, microsecond and nanosecond precision
            long seconds = -2_208_988_800L + (long) (random.nextDouble() * 6_311_433_600L);
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant instant = Instant.ofEpochSecond(seconds, nanos);
            assertThat(Timestamps.parseUtcFast(instant.toString())).as(instant.toString()).isEqualTo(instant);
        }
    }

    /** A letter in any field is no digit: the fast path must not read it as a number (an hour 0a read as 0). */
    @ParameterizedTest
    @ValueSource(strings = {"2o26-11-26T10:15:30Z", "2026-1a-26T10:15:30Z", "2026-11-2aT10:15:30Z",
            "2026-11-26T0a:15:30Z", "2026-11-26T10:1a:30Z", "2026-11-26T10:15:3aZ", "2026-11-26T10:15:30.1a3Z"})
    void theFastPathReadsNoLetterAsADigit(String text) {
        assertThat(Timestamps.parseUtcFast(text)).isNull();
    }

    /** The fast path's bounds: second 59, one and nine fraction digits, a fraction of zero. */
    @ParameterizedTest
    @ValueSource(strings = {"2026-11-26T10:15:59Z", "2026-11-26T10:15:30.5Z", "2026-11-26T10:15:30.123456789Z",
            "2026-11-26T10:15:30.000Z", "2026-11-26T10:15:30.0Z"})
    void theFastPathReadsItsWholeRange(String text) {
        assertThat(Timestamps.parseUtcFast(text)).isEqualTo(Instant.parse(text));
    }
}
