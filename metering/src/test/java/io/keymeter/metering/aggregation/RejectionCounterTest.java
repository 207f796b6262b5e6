package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The day a count's key names, and the sweep's bounds (at most {@link RejectionCounter#MAX_DELETES} a time, a scan
 * only when the cut-off day moves); the sweep on the production topology is in {@code MeteringTopologyTest}.
 */
class RejectionCounterTest {

    private static final Duration RETENTION = Duration.ofDays(36);
    private static final Instant NOW = Instant.parse("2026-12-20T12:00:00Z");

    @TempDir
    Path stateDir;
    private MockProcessorContext<Void, Void> context;

    @BeforeEach
    void context() {
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "rejection-counter-test");
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        context = new MockProcessorContext<>(config, new TaskId(0, 0), stateDir.toFile());
    }

    @Test
    void aSweepDeletesAtMostItsShareAndLooksAgainUntilDone() {
        TimestampedKeyValueStore<String, Long> counts = store();
        RejectionCounter counter = new RejectionCounter("counts", RETENTION);
        counter.init(context);
        for (int i = 0; i < RejectionCounter.MAX_DELETES + 5; i++) {
            counts.put("cred-" + i + "/2026-11-01/expired", ValueAndTimestamp.make(1L, 0));
        }
        counts.put("cred-0/2026-11-14/expired", ValueAndTimestamp.make(3L, 0)); // the cut-off day: kept

        counter.sweep(NOW);
        assertThat(counts.approximateNumEntries()).isEqualTo(6);
        counter.sweep(NOW.plusSeconds(300));
        assertThat(counts.approximateNumEntries()).isEqualTo(1);
        assertThat(counts.get("cred-0/2026-11-14/expired").value()).isEqualTo(3L);

        // done for the day: a day recreated since waits for the cut-off to move
        counts.put("cred-1/2026-11-01/expired", ValueAndTimestamp.make(1L, 0));
        counter.sweep(NOW.plus(Duration.ofHours(11)));
        assertThat(counts.get("cred-1/2026-11-01/expired")).isNotNull();
        counter.sweep(NOW.plus(Duration.ofHours(12)));
        assertThat(counts.get("cred-1/2026-11-01/expired")).isNull();
        assertThat(counts.get("cred-0/2026-11-14/expired")).isNull();
    }

    private TimestampedKeyValueStore<String, Long> store() {
        TimestampedKeyValueStore<String, Long> store = Stores.timestampedKeyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("counts"), Serdes.String(), Serdes.Long()).withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        return store;
    }

    @Test
    void theDayIsReadFromTheEndOfTheKey() {
        assertThat(RejectionCounter.dayOf("0b9e6a1c-4f1e-4c7a-9a53-2d4f3a1b7c11/2026-11-01/referrer-not-permitted"))
                .isEqualTo(LocalDate.of(2026, 11, 1));
        assertThat(RejectionCounter.dayOf("-/2026-12-31/unknown-key")).isEqualTo(LocalDate.of(2026, 12, 31));
        assertThat(RejectionCounter.dayOf("a/b/2026-01-02/expired")).as("a credential id with a slash")
                .isEqualTo(LocalDate.of(2026, 1, 2));
    }

    @Test
    void aKeyOfAnotherShapeNamesNoDayAndIsNeverSwept() {
        assertThat(RejectionCounter.dayOf("no-slashes")).isNull();
        assertThat(RejectionCounter.dayOf("/expired")).isNull();
        assertThat(RejectionCounter.dayOf("cred/not-a-day/expired")).isNull();
        assertThat(RejectionCounter.dayOf("cred/2026-13-40/expired")).isNull();
    }
}
