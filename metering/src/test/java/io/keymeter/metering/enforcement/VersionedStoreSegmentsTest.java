package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.metering.MeteringTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.VersionedBytesStoreSupplier;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.VersionedRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Kafka's RocksDB versioned store, closed and opened again on its directory as a restart does: it holds its history
 * but does not find it until its segments are registered. The whole path is in {@code MeteringRestoreTest}.
 */
class VersionedStoreSegmentsTest {

    private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");

    @TempDir
    Path stateDir;

    @Test
    void historyWrittenBeforeTheStoreWasReopenedIsFoundOnceItsSegmentsAreRegistered() {
        VersionedKeyValueStore<String, String> before = open();
        writeHistory(before);
        before.close();

        VersionedKeyValueStore<String, String> reopened = open();
        assertThat(valueAt(reopened, T0.plus(Duration.ofHours(1))))
                .as("Kafka's defect (if this fails, Kafka fixed it and the workaround can go)").isNull();
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(4)))).as("the latest is found").isEqualTo("invalidated");

        int registered = VersionedStoreSegments.registerExisting(reopened);

        assertThat(registered).isPositive();
        assertThat(valueAt(reopened, T0.plus(Duration.ofHours(1)))).isEqualTo("created");
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(2)))).isEqualTo("edited");
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(4)))).isEqualTo("invalidated");
        assertThat(VersionedStoreSegments.registerExisting(reopened)).as("again: the same ones").isEqualTo(registered);
        reopened.close();
    }

    @ParameterizedTest(name = "history {0}, then {1}")
    @CsvSource({"P36DT5M, P8D", "P8D, P366D", "P36DT5M, P36DT5M"})
    void theKeyStateStoreFindsItsHistoryWhenTheHistoryRetentionChangedSince(Duration before, Duration after) {
        VersionedKeyValueStore<String, String> first = open(MeteringTopology.keyStateStore(before));
        writeHistory(first);
        first.close();

        VersionedKeyValueStore<String, String> reopened = open(MeteringTopology.keyStateStore(after));
        VersionedStoreSegments.registerExisting(reopened);
        reopened.put("key", "deleted", T0.plus(Duration.ofDays(5)).toEpochMilli());

        assertThat(valueAt(reopened, T0.plus(Duration.ofHours(1)))).isEqualTo("created");
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(2)))).isEqualTo("edited");
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(4)))).isEqualTo("invalidated");
        assertThat(valueAt(reopened, T0.plus(Duration.ofDays(6)))).isEqualTo("deleted");
        reopened.close();
    }

    @Test
    void anEmptyStoreHasNoSegments() {
        VersionedKeyValueStore<String, String> store = open();
        assertThat(VersionedStoreSegments.registerExisting(store)).isZero();
        store.close();
    }

    private VersionedKeyValueStore<String, String> open() {
        return open(Stores.persistentVersionedKeyValueStore("keys", Duration.ofDays(8)));
    }

    private VersionedKeyValueStore<String, String> open(VersionedBytesStoreSupplier supplier) {
        MockProcessorContext<Object, Object> context = MockContexts.inDir("segments-test", stateDir);
        VersionedKeyValueStore<String, String> store = Stores.versionedKeyValueStoreBuilder(
                        supplier, Serdes.String(), Serdes.String())
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        return store;
    }

    /** A key created at T0, edited a day later and invalidated two days after that. */
    private static void writeHistory(VersionedKeyValueStore<String, String> store) {
        store.put("key", "created", T0.toEpochMilli());
        store.put("key", "edited", T0.plus(Duration.ofDays(1)).toEpochMilli());
        store.put("key", "invalidated", T0.plus(Duration.ofDays(3)).toEpochMilli());
    }

    private static String valueAt(VersionedKeyValueStore<String, String> store, Instant at) {
        VersionedRecord<String> record = store.get("key", at.toEpochMilli());
        return record == null ? null : record.value();
    }
}
