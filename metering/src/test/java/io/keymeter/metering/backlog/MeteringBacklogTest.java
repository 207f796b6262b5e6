package io.keymeter.metering.backlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MeteringBacklogTest {

    private final AtomicLong behind = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MeteringBacklog backlog = new MeteringBacklog(() -> {
        if (behind.get() < 0) {
            throw new IllegalStateException("Kafka did not answer");
        }
        return behind.get();
    }, registry, Clock.fixed(Instant.parse("2026-12-06T00:00:00Z"), ZoneOffset.UTC), null);

    private double gauge() {
        return registry.get("keymeter.metering.backlog").gauge().value();
    }

    @Test
    void theGaugeShowsTheLastReading() throws Exception {
        assertThat(gauge()).as("nothing read yet").isNaN();
        behind.set(1_234);
        assertThat(backlog.measure()).isEqualTo(1_234);
        assertThat(gauge()).isEqualTo(1_234);
        behind.set(-1);
        assertThatThrownBy(backlog::measure).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aLargeBacklogIsWarnedOfUntilMostOfItIsGone() throws Exception {
        behind.set(MeteringBacklog.WARN_AT - 1);
        backlog.measure();
        assertThat(backlog.warning()).isFalse();
        behind.set(MeteringBacklog.WARN_AT);
        backlog.measure();
        assertThat(backlog.warning()).isTrue();
        // shrinking, not gone: no "caught up" to take back at the next burst
        behind.set(MeteringBacklog.WARN_AT / 2);
        backlog.measure();
        assertThat(backlog.warning()).isTrue();
        behind.set(MeteringBacklog.WARN_AT / 10 - 1);
        backlog.measure();
        assertThat(backlog.warning()).isFalse();
        assertThat(gauge()).isEqualTo(MeteringBacklog.WARN_AT / 10 - 1);
    }
}
