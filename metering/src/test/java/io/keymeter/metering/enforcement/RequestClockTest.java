package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestClockTest {

    private static final long NOW = Instant.parse("2026-12-02T01:00:00Z").toEpochMilli();
    private final RequestClock clock = new RequestClock(Duration.ofMinutes(5));

    @Test
    void aRequestUpToMaxFutureSkewAndTheMarginAheadPasses() {
        long edge = NOW + Duration.ofMinutes(6).toMillis();
        assertThatCode(() -> clock.check(edge, NOW)).doesNotThrowAnyException();
        assertThatCode(() -> clock.check(NOW, NOW)).doesNotThrowAnyException();
    }

    @Test
    void aRequestAMillisecondBeyondIsRefusedWithItsTimeTheSettingAndTheClock() {
        long beyond = NOW + Duration.ofMinutes(6).toMillis() + 1;
        assertThatThrownBy(() -> clock.check(beyond, NOW)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("request stamped 2026-12-02T01:06:00.001Z is more than PT5M "
                        + "(keymeter.ingest.max-future-skew) and PT1M ahead of this instance's clock, 2026-12-02T01:00:00Z");
    }

    @Test
    void oldRequestsPassHoweverOld() {
        assertThatCode(() -> clock.check(NOW - Duration.ofDays(400).toMillis(), NOW)).doesNotThrowAnyException();
        assertThatCode(() -> clock.check(0, NOW)).doesNotThrowAnyException();
    }

    @Test
    void aSkewOfWholeDaysIsNamedAsConfigured() {
        assertThatThrownBy(() -> new RequestClock(Duration.ofDays(2)).check(NOW + Duration.ofDays(3).toMillis(), NOW))
                .hasMessageContaining("more than P2D (keymeter.ingest.max-future-skew) and PT1M ahead");
    }
}
