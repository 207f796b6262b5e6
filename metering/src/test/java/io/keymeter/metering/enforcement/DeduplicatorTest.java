package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.metering.MeteringSerdes;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The deduplicator on its own (a source, the processor, a sink) over a real RocksDB store with the production
 * Streams config, with its in-memory filters and without them: both must drop exactly the same requests. The whole
 * topology's dedupe behaviour is in {@code MeteringTopologyTest}.
 */
@ParameterizedClass(name = "filter capacity {0}")
@ValueSource(longs = {10_000, 0})
class DeduplicatorTest {

    private static final String STORE = "seen";
    private static final Duration WINDOW = Duration.ofSeconds(10);
    private static final int MIN_BATCH = 100;
    /** A generation boundary: request time is cut into windows from the epoch. */
    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

    @Parameter
    long filterCapacity;

    /** These tests move request time by windows with the wall clock still: no request is refused as too new. */
    private static final String KEY_1 = "key1key1key1key1";
    private static final String KEY_2 = "key2key2key2key2";
    private static final String HASH = ApiKeys.hashSecret("secret");
    private static final RequestBounds ANY_TIME = new RequestBounds(Duration.ofDays(365_000), 1);

    @TempDir
    Path dataDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, RequestLog> in;
    private TestOutputTopic<String, String> out;
    private KeyValueStore<Bytes, Long> seen;
    private final AtomicInteger duplicates = new AtomicInteger();

    @BeforeEach
    void startDriver() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORE), MeteringSerdes.BYTES, MeteringSerdes.LONG));
        builder.stream(Topics.REQUESTS.name(), Consumed.with(Topics.REQUESTS.keySerde(), MeteringSerdes.ARRIVED_REQUEST))
                .processValues(() -> new Deduplicator(STORE, WINDOW, filterCapacity, MIN_BATCH, ANY_TIME,
                        duplicates::incrementAndGet), Named.as("dedupe"), STORE)
                .mapValues(arrived -> arrived.log().requestId())
                .to("out", Produced.with(MeteringSerdes.STRING, MeteringSerdes.STRING));
        KeymeterProperties properties = new KeymeterProperties(List.of("all"), dataDir, null, null, null, null, null,
                null, null, null, null);
        Properties config = StreamsFactory.config(Map.of("bootstrap.servers", "unused:9092"), properties,
                MeteringConfiguration.APP_NAME, Map.of());
        driver = new TopologyTestDriver(builder.build(), config, T0);
        in = driver.createInputTopic(Topics.REQUESTS.name(), Topics.REQUESTS.keySerde().serializer(),
                Topics.REQUESTS.valueSerde().serializer());
        out = driver.createOutputTopic("out", MeteringSerdes.STRING.deserializer(), MeteringSerdes.STRING.deserializer());
        seen = driver.getKeyValueStore(STORE);
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void aResendAcrossAGenerationBoundaryIsDroppedAndOneAfterTheWindowPasses() {
        send("a", T0.minusMillis(1)); // last millisecond of one generation
        send("a", T0);                // first of the next: found in the previous generation
        send("a", T0.plus(WINDOW).minusMillis(2)); // still within the window of the first sighting
        send("a", T0.plus(WINDOW).minusMillis(1)); // a window after it: counts again

        assertThat(out.readRecordsToList()).extracting(TestRecord::getRecordTime)
                .containsExactly(T0.minusMillis(1), T0.plus(WINDOW).minusMillis(1));
        assertThat(duplicates).as("each resend dropped is told, so it is counted").hasValue(2);
    }

    @Test
    void theSameRequestIdForTwoKeysIsTwoRequests() {
        send(KEY_1, "shared-id", T0);
        send(KEY_2, "shared-id", T0.plusMillis(1)); // another key in the same partition: billed too
        send(KEY_1, "shared-id", T0.plusMillis(2)); // a resend: dropped

        assertThat(out.readRecordsToList()).extracting(TestRecord::getRecordTime)
                .containsExactly(T0, T0.plusMillis(1));
        // an id that runs into where another pair's keyId starts is still another request
        assertThat(Deduplicator.identity("key-1", "shared-id"))
                .isNotEqualTo(Deduplicator.identity("ey-1", "shared-idk"));
    }

    @Test
    void theStoreStaysBoundedWhenRequestsOutpaceTheMinimumSweep() {
        // 1,000 requests a second of request time, ten times the minimum sweep batch, for ten windows
        int perSecond = 1_000;
        long maxEntries = 0;
        for (int second = 0; second < 100; second++) {
            Instant at = T0.plusSeconds(second);
            for (int i = 0; i < perSecond; i++) {
                send(second + "-" + i, at);
            }
            driver.advanceWallClockTime(Deduplicator.SWEEP_INTERVAL);
            maxEntries = Math.max(maxEntries, entries().size());
        }

        long perWindow = perSecond * WINDOW.toSeconds();
        assertThat(out.readValuesToList()).hasSize(100 * perSecond); // all distinct: nothing dropped
        // two windows, and one second of writes before a sweep; with the minimum batch alone: 92,000
        assertThat(maxEntries).isLessThanOrEqualTo(perWindow * 2 + perSecond);
        // everything within the window of the newest request is still remembered
        assertThat(entries()).contains("99-0", "90-999");
        send("90-0", T0.plusSeconds(99));
        assertThat(out.readValuesToList()).isEmpty();
        assertThat(seen.get(Deduplicator.REQUEST_TIME_KEY)).as("the kept request time, through 100 sweeps")
                .isEqualTo(T0.plusSeconds(99).toEpochMilli());
    }

    @Test
    void onlyGenerationsWhollyOutsideTheWindowAreSwept() {
        send("old", T0.plusSeconds(1));        // generation 0
        send("previous", T0.plusSeconds(15));  // generation 1
        send("current", T0.plusSeconds(21));   // generation 2: generation 0 has left the window

        driver.advanceWallClockTime(Deduplicator.SWEEP_INTERVAL);

        assertThat(entries()).containsExactlyInAnyOrder("previous", "current");
    }

    @Test
    void afterARestartEntriesWrittenAheadOfTheFirstRequestAreStillFound() {
        // left by the task before a restart, when its newest request was in generation 5
        long generation5 = Math.floorDiv(T0.plus(WINDOW.multipliedBy(5)).toEpochMilli(), WINDOW.toMillis());
        seen.put(Deduplicator.key(generation5, Deduplicator.identity(KEY_1, "early")),
                T0.plus(WINDOW.multipliedBy(5)).plusSeconds(1).toEpochMilli());

        // the first request after the restart is older, from generation 3, and the resend of "early" too
        send("late", T0.plus(WINDOW.multipliedBy(3)));
        send("early", T0.plus(WINDOW.multipliedBy(3)).plusSeconds(1));

        assertThat(out.readValuesToList()).containsExactly("late");
    }

    /**
     * Request time resumes after a restart where it stood (less under a second), not at the start of the newest
     * generation: a request first seen after the restart, before request time caught up, was remembered from that
     * start, a window shortened by up to a whole one, and its resend a moment later was billed twice. The kept time
     * outlives the sweep (it sits in generation 0, which the sweep passes first).
     */
    @Test
    void aRequestFirstSeenAfterARestartKeepsItsWindow() {
        Instant generation5 = T0.plus(WINDOW.multipliedBy(5));
        send("before", generation5.plusMillis(9_900));
        assertThat(out.readValuesToList()).containsExactly("before");

        restart();
        send("late", generation5.minusSeconds(5));     // the first after the restart: seen at g5 + 9.9 s
        send("live", generation5.plusMillis(10_100));  // 0.2 s of request time after the newest one before it
        send("late", generation5.minusSeconds(5));     // resent: within the window of its first sighting

        assertThat(out.readValuesToList()).containsExactly("late", "live");
        assertThat(duplicates).hasValue(1);
        driver.advanceWallClockTime(Deduplicator.SWEEP_INTERVAL);
        assertThat(entries()).as("all within the window").containsExactlyInAnyOrder("before", "late", "live");
        assertThat(seen.get(Deduplicator.REQUEST_TIME_KEY)).as("the kept request time")
                .isEqualTo(generation5.plusMillis(10_100).toEpochMilli());
    }

    @Test
    void entriesLeftBeforeARestartAreFoundWhileTheFiltersAreReadBackAndAfter() {
        // left by the task before a restart: one window of requests in generations 5 and 6
        Instant generation6 = T0.plus(WINDOW.multipliedBy(6));
        int left = 3 * Deduplicator.REBUILD_BATCH;
        for (int i = 0; i < left; i++) {
            Instant at = generation6.minus(WINDOW.dividedBy(2)).plusMillis(i * WINDOW.toMillis() / left);
            seen.put(Deduplicator.key(Math.floorDiv(at.toEpochMilli(), WINDOW.toMillis()),
                    Deduplicator.identity(KEY_1, "left-" + i)), at.toEpochMilli());
        }

        send("left-" + (left - 1), generation6.plusSeconds(1)); // read back from the store: not yet in a filter
        for (int batch = 0; batch < 3; batch++) { // the whole store read back, a batch a punctuation
            driver.advanceWallClockTime(Deduplicator.REBUILD_INTERVAL);
        }
        send("left-0", generation6.plusSeconds(2)); // first seen in generation 5, still within its window
        send("left-" + (left / 2), generation6.plusSeconds(3));
        send("new", generation6.plusSeconds(4));

        assertThat(out.readValuesToList()).containsExactly("new");
    }

    @Test
    void aWindowRaisedSinceTheStoreWasWrittenDropsResendsWithinItAndTheStoreStillForgets() {
        // left by a run with half this window: its generations are half as long
        Instant first = T0.plus(WINDOW.multipliedBy(5)).plusSeconds(1);
        leaveEntry(WINDOW.dividedBy(2), "early", first);

        send("early", first.plusSeconds(6)); // within the new window of its first sighting (not the old one's)
        driver.advanceWallClockTime(Deduplicator.REBUILD_INTERVAL); // the filters read the store back
        send("fresh", first.plusSeconds(7));
        send("early", first.plusSeconds(12)); // a window after its first sighting: counts again
        send("fresh", first.plusSeconds(16));
        send("late", first.plusSeconds(40));
        driver.advanceWallClockTime(Deduplicator.SWEEP_INTERVAL);

        assertThat(out.readValuesToList()).containsExactly("fresh", "early", "late");
        assertThat(entries()).as("everything older than the window swept").containsExactly("late");
        assertThat(seen.get(Deduplicator.GENERATION_LENGTH_KEY)).as("the store's generation length, kept")
                .isEqualTo(WINDOW.dividedBy(2).toMillis());
    }

    @Test
    void aWindowLoweredSinceTheStoreWasWrittenDropsResendsWithinItAndTheStoreStillForgets() {
        // left by a run with twice this window: its generations are twice as long
        Instant first = T0.plus(WINDOW.multipliedBy(5)).plusSeconds(1);
        leaveEntry(WINDOW.multipliedBy(2), "early", first);

        send("early", first.plusSeconds(6)); // within the new window
        send("early", first.plusSeconds(11)); // beyond it, though within the old one: counts again
        send("late", first.plusSeconds(50));
        driver.advanceWallClockTime(Deduplicator.SWEEP_INTERVAL);

        assertThat(out.readRecordsToList()).extracting(TestRecord::getValue, TestRecord::getRecordTime).containsExactly(
                tuple("early", first.plusSeconds(11)), tuple("late", first.plusSeconds(50)));
        assertThat(entries()).as("everything older than the window swept").containsExactly("late");
    }

    @Test
    void aStoreWithNoEntryLeftTakesTheWindowsGenerationLength() {
        seen.put(Deduplicator.GENERATION_LENGTH_KEY, WINDOW.dividedBy(2).toMillis()); // all it held was swept

        send("a", T0);
        send("a", T0.plus(WINDOW).minusMillis(1));

        assertThat(out.readValuesToList()).containsExactly("a");
        assertThat(seen.get(Deduplicator.GENERATION_LENGTH_KEY)).isEqualTo(WINDOW.toMillis());
    }

    /** A restart as the task sees it: the store as last committed (the driver commits after every record), a new processor. */
    private void restart() {
        List<KeyValue<Bytes, Long>> kept = new ArrayList<>();
        try (KeyValueIterator<Bytes, Long> all = seen.all()) {
            all.forEachRemaining(kept::add);
        }
        driver.close();
        startDriver();
        kept.forEach(entry -> seen.put(entry.key, entry.value));
    }

    /** An entry as a run with {@code window} wrote it, without the stored length (as versions before it did). */
    private void leaveEntry(Duration window, String requestId, Instant firstSeen) {
        seen.put(Deduplicator.key(Math.floorDiv(firstSeen.toEpochMilli(), window.toMillis()),
                Deduplicator.identity(KEY_1, requestId)), firstSeen.toEpochMilli());
    }

    private void send(String requestId, Instant at) {
        send(KEY_1, requestId, at);
    }

    private void send(String keyId, String requestId, Instant at) {
        in.pipeInput(keyId, new RequestLog(requestId, keyId, HASH, "basemaps", "tile", 1, null, null, at), at);
    }

    private List<String> entries() {
        List<String> ids = new ArrayList<>();
        try (KeyValueIterator<Bytes, Long> all = seen.all()) {
            all.forEachRemaining(entry -> {
                if (Deduplicator.isRequest(entry.key)) {
                    ids.add(Deduplicator.requestIdOf(entry.key));
                }
            });
        }
        return ids;
    }

    /** Ingest takes {@code "r\uD800"} and {@code "r\uD801"} (JSON escapes) as two requests; UTF-8 made both "r?". */
    @Test
    void requestIdsThatDifferOnlyInALoneSurrogateAreTwoRequests() {
        byte[] cut = Deduplicator.identity("AbCdEfGh12345678", "r\uD800");
        assertThat(cut).isNotEqualTo(Deduplicator.identity("AbCdEfGh12345678", "r\uD801"))
                .isNotEqualTo(Deduplicator.identity("AbCdEfGh12345678", "r?"));
        // and a resend of the cut id is still a resend
        assertThat(Deduplicator.identity("AbCdEfGh12345678", new String("r\uD800")))
                .isEqualTo(cut);
    }
}
