package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The day a count's key names, and the sweep's bounds (a scan only when the cut-off day moves, so many entries read a
 * sweep and the rest at the next); the sweep on the production topology is in {@code MeteringTopologyTest}.
 */
class RejectionCounterTest {

    private static final Duration RETENTION = Duration.ofDays(36);
    private static final Instant NOW = Instant.parse("2026-12-20T12:00:00Z");
    private static final Duration SWEEP = Duration.ofMinutes(5);

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
    void aScanReadsAtMostItsShareASweepAndGoesOnFromThereUntilDone() {
        TimestampedKeyValueStore<String, Long> counts = store();
        RejectionCounter counter = new RejectionCounter("counts", RETENTION, 4);
        counter.init(context);
        for (String credential : List.of("a", "b", "c", "d", "e", "f")) {
            counts.put(credential + "/2026-11-01/expired", ValueAndTimestamp.make(1L, 0));
            counts.put(credential + "/2026-11-14/expired", ValueAndTimestamp.make(3L, 0)); // the cut-off day: kept
        }

        counter.sweep(NOW); // reads a/01, a/14, b/01, b/14
        assertThat(keys(counts)).containsExactly("a/2026-11-14/expired", "b/2026-11-14/expired", "c/2026-11-01/expired",
                "c/2026-11-14/expired", "d/2026-11-01/expired", "d/2026-11-14/expired", "e/2026-11-01/expired",
                "e/2026-11-14/expired", "f/2026-11-01/expired", "f/2026-11-14/expired");
        counter.sweep(NOW.plusSeconds(300)); // from b/14 on: b/14, c/01, c/14, d/01
        counter.sweep(NOW.plusSeconds(600)); // from d/01 (deleted) on: d/14, e/01, e/14, f/01
        counter.sweep(NOW.plusSeconds(900)); // from f/01 (deleted) on: f/14, the end
        assertThat(keys(counts)).containsExactly("a/2026-11-14/expired", "b/2026-11-14/expired", "c/2026-11-14/expired",
                "d/2026-11-14/expired", "e/2026-11-14/expired", "f/2026-11-14/expired");

        // done for the day: a day recreated since waits for the cut-off to move, then goes with the next day's
        counts.put("a/2026-11-01/expired", ValueAndTimestamp.make(1L, 0));
        counter.sweep(NOW.plus(Duration.ofHours(11)));
        assertThat(counts.get("a/2026-11-01/expired")).isNotNull();
        for (int sweep = 0; sweep < 4; sweep++) {
            counter.sweep(NOW.plus(Duration.ofHours(12)).plus(SWEEP.multipliedBy(sweep)));
        }
        assertThat(keys(counts)).isEmpty();
    }

    @Test
    void aScanWhoseCutOffMovesStartsAgainFromTheFirstKey() {
        TimestampedKeyValueStore<String, Long> counts = store();
        RejectionCounter counter = new RejectionCounter("counts", RETENTION, 2);
        counter.init(context);
        for (String credential : List.of("a", "b", "c")) {
            counts.put(credential + "/2026-11-14/expired", ValueAndTimestamp.make(1L, 0));
        }
        counter.sweep(NOW); // cut-off 2026-11-14: reads a and b, keeps them
        counter.sweep(NOW.plus(Duration.ofHours(12))); // cut-off 2026-11-15: from a again
        assertThat(keys(counts)).containsExactly("c/2026-11-14/expired");
    }

    private static List<String> keys(TimestampedKeyValueStore<String, Long> counts) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<Long>> all = counts.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
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
