package io.keymeter.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.testing.MovableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampledLogTest {

    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-02T03:00:00Z"));
    private final List<String> lines = new ArrayList<>();
    private final SampledLog log = new SampledLog(clock, lines::add);

    @Test
    void theFirstDeadLetterIsLoggedThenOneLinePerIntervalCountingTheOnesLeftOut() {
        log.record(() -> "first");
        log.record(() -> "second");
        clock.advance(SampledLog.INTERVAL.minusMillis(1));
        log.record(() -> "third");
        assertThat(lines).containsExactly("first");

        clock.advance(Duration.ofMillis(1));
        log.record(() -> "fourth");
        log.record(() -> "fifth");
        clock.advance(Duration.ofMinutes(5));
        log.record(() -> "sixth");
        assertThat(lines).containsExactly("first", "fourth (2 more since the previous line)",
                "sixth (1 more since the previous line)");
    }

    @Test
    void aLineLeftOutIsNotEvenBuilt() {
        log.record(() -> "first");
        log.record(() -> {
            throw new AssertionError("built a line that is not written");
        });
        assertThat(lines).containsExactly("first");
    }
}
