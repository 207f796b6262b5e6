package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.KeyFixtures;
import io.keymeter.metering.KeyFixtures.TestKey;
import io.keymeter.metering.MeteringSerdes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the topology tests cannot show: a request that was waiting in the join buffer when the task stopped is
 * rebuilt from the (restored) buffer store and judged once its grace has passed, before later requests.
 */
class RequestJudgeTest {

    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");
    private static final Duration GRACE = Duration.ofSeconds(2);

    @TempDir
    Path stateDir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private MockProcessorContext<String, Decision> context;
    private KeyValueStore<Bytes, ArrivedRequest> buffer;
    private VersionedKeyValueStore<String, ApiKeyState> keys;
    private TestKey key;

    @BeforeEach
    void stores() {
        context = MockContexts.inDir("judge-test", stateDir);
        context.setCurrentSystemTimeMs(T0.toEpochMilli()); // live traffic: real time is not ahead of the requests
        buffer = MockContexts.open(context, Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("buffer"),
                MeteringSerdes.BYTES, MeteringSerdes.BUFFERED_REQUEST).withLoggingDisabled().build());
        keys = MockContexts.open(context, Stores.versionedKeyValueStoreBuilder(
                Stores.persistentVersionedKeyValueStore("keys", Duration.ofDays(1)), Topics.API_KEYS.keySerde(),
                Topics.API_KEYS.valueSerde()).withLoggingDisabled().build());
        MockContexts.open(context, LatestKeyStates.builder("latest").build());
        key = TestKey.create("acme", "cred-1", 1);
        keys.put(key.keyId(), key.state(KeyStatus.ACTIVE, T0.plus(Duration.ofDays(30)), T0), T0.toEpochMilli());
    }

    @AfterEach
    void closeStores() {
        keys.close();
        buffer.close();
    }

    private RequestJudge judge() {
        return new RequestJudge("keys", "latest", "buffer", GRACE,
                new OutcomeCounters(registry, "judged", "test", "accepted"));
    }

    private List<Decision> judged() {
        return context.forwarded().stream().<Decision>map(f -> f.record().value()).toList();
    }

    @Test
    void aRequestWaitingInTheRestoredBufferIsJudgedAfterTheGraceAndRemovedFromTheBuffer() {
        // as the changelog restores it: the arrival bytes of a request that waited when the task stopped
        RequestLog waiting = key.request("waited", KeyFixtures.BASEMAPS, 3, T0.plusSeconds(10));
        buffer.put(new RequestJudge.Slot(T0.plusSeconds(10).toEpochMilli(), 41).key(), arrived(waiting));

        RequestJudge judge = judge();
        judge.init(context);
        RequestLog later = key.request("later", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(13));
        context.setCurrentSystemTimeMs(later.timestamp().toEpochMilli()); // it arrives when it is made
        judge.process(new Record<>(key.keyId(), arrived(later), later.timestamp().toEpochMilli()));

        List<Decision> judged = judged();
        assertThat(judged).extracting(d -> d.request().requestId()).containsExactly("waited");
        assertThat(judged.get(0).accepted()).isTrue();
        assertThat(judged.get(0).request().units()).isEqualTo(3);
        assertThat(registry.get("judged").tag(OutcomeCounters.OUTCOME_TAG, "accepted").counter().count())
                .as("every decision forwarded is counted").isEqualTo(1.0);
        assertThat(buffer.approximateNumEntries()).as("the judged request left the buffer; the later one waits").isEqualTo(1);
    }

    /**
     * A restored request with part of its grace left waits a whole grace from the restart: the key state it waits for
     * may have been appended before the stop and not read yet.
     */
    @Test
    void aRestoredRequestWithinItsGraceWaitsAWholeGraceFromTheRestart() {
        TestKey newcomer = TestKey.create("acme", "cred-4", 1);
        RequestLog request = newcomer.request("in-its-grace", KeyFixtures.BASEMAPS, 1, T0.minusSeconds(1));
        buffer.put(new RequestJudge.Slot(request.timestamp().toEpochMilli(), 11).key(), arrived(request));
        RequestJudge judge = judge();
        judge.init(context); // at T0: a second of its grace left

        punctuateAt(T0.plus(GRACE).minusMillis(1).toEpochMilli());
        assertThat(judged()).as("past its own grace, within the restart's").isEmpty();
        keys.put(newcomer.keyId(), newcomer.state(KeyStatus.ACTIVE, T0.plus(Duration.ofDays(30)), T0.minusSeconds(2)),
                T0.minusSeconds(2).toEpochMilli());
        punctuateAt(T0.plus(GRACE).toEpochMilli());
        assertThat(judged()).singleElement().satisfies(d -> assertThat(d.accepted()).isTrue());
    }

    /** A restored request stamped ahead of this clock waits at most twice the grace from the restart, not to its stamp. */
    @Test
    void aRestoredRequestStampedAheadWaitsAtMostTwiceTheGraceFromTheRestart() {
        RequestLog ahead = key.request("ahead", KeyFixtures.BASEMAPS, 1, T0.plus(Duration.ofMinutes(5)));
        buffer.put(new RequestJudge.Slot(ahead.timestamp().toEpochMilli(), 7).key(), arrived(ahead));
        RequestJudge judge = judge();
        judge.init(context); // at T0
        RequestLog later = key.request("later", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(3));

        context.setCurrentSystemTimeMs(T0.plus(GRACE.multipliedBy(2)).minusMillis(1).toEpochMilli());
        judge.process(new Record<>(key.keyId(), arrived(later), later.timestamp().toEpochMilli()));
        assertThat(judged()).as("within twice the grace of the restart").isEmpty();

        context.setCurrentSystemTimeMs(T0.plus(GRACE.multipliedBy(2)).toEpochMilli());
        judge.process(new Record<>(key.keyId(), arrived(later), later.timestamp().toEpochMilli()));
        assertThat(judged()).extracting(d -> d.request().requestId()).containsExactly("ahead");
    }

    /**
     * Kafka Streams revives a corrupted task (a commit that timed out under exactly-once) with the same processor
     * objects: closed, then initialised again on stores rolled back to their last commit, and its input read again
     * from the last committed offset. What waited only in the aborted transaction must not be judged from memory too.
     */
    @Test
    void aTaskRevivedAfterAnAbortedTransactionJudgesAReplayedRequestOnce() {
        RequestJudge judge = judge();
        judge.init(context);
        RequestLog request = key.request("r-1", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(1));
        Record<String, ArrivedRequest> record = new Record<>(key.keyId(), arrived(request),
                request.timestamp().toEpochMilli());
        context.setRecordMetadata(Topics.REQUESTS.name(), 0, 7);
        judge.process(record);
        assertThat(judged()).as("within its grace: waiting").isEmpty();

        // the transaction is aborted: the buffer's write is rolled back, the task revived and the record read again
        // (a revival takes seconds: by the time the record is read again its grace has passed)
        buffer.put(new RequestJudge.Slot(request.timestamp().toEpochMilli(), 7).key(), null);
        judge.close();
        judge.init(context);
        context.setCurrentSystemTimeMs(T0.plusSeconds(10).toEpochMilli());
        judge.process(record);

        // before, the copy held in memory since the aborted transaction was judged as well: billed twice
        assertThat(judged()).extracting(d -> d.request().requestId()).containsExactly("r-1");
    }

    /**
     * Kafka Streams recycles a task active -> standby -> active with the same store objects, not initialised again;
     * as a standby its versioned store is restored from the changelog, with no processor to forget what changed. The
     * latest state held from before (active) answered a request made after an invalidation: accepted, billed.
     */
    @Test
    void aTaskActiveAgainAfterAStandbySpellReadsKeyStatesRestoredMeanwhile() {
        RequestJudge first = judge();
        first.init(context);
        RequestLog before = key.request("before", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        context.setCurrentSystemTimeMs(T0.plusSeconds(10).toEpochMilli());
        first.process(new Record<>(key.keyId(), arrived(before), before.timestamp().toEpochMilli()));
        assertThat(judged()).singleElement().satisfies(d -> assertThat(d.accepted()).isTrue());
        first.close();

        // standby: the invalidation restored straight into the versioned store
        keys.put(key.keyId(), key.state(KeyStatus.INVALIDATED, T0.plus(Duration.ofDays(30)), T0.plusSeconds(20)),
                T0.plusSeconds(20).toEpochMilli());
        context.resetForwards();
        RequestJudge again = judge();
        again.init(context);
        RequestLog after = key.request("after", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(30));
        context.setCurrentSystemTimeMs(T0.plusSeconds(40).toEpochMilli());
        again.process(new Record<>(key.keyId(), arrived(after), after.timestamp().toEpochMilli()));

        assertThat(judged()).singleElement().satisfies(d -> assertThat(d.reason()).isEqualTo(RejectionReason.INVALIDATED));
    }

    /**
     * A backlog request its key does not know yet is held in the buffer store too: after a crash it is restored and
     * waits a grace from the restart, while the key state appended before it is read from its topic again.
     */
    @Test
    void aBacklogRequestHeldForItsKeyIsKeptAcrossARestartAndWaitsAGraceFromIt() {
        TestKey newcomer = TestKey.create("acme", "cred-2", 1);
        RequestLog request = newcomer.request("held", KeyFixtures.BASEMAPS, 4, T0.plusSeconds(1));
        context.setCurrentSystemTimeMs(T0.plus(Duration.ofHours(1)).toEpochMilli()); // a backlog
        context.setRecordMetadata(Topics.REQUESTS.name(), 0, 9);
        RequestJudge first = judge();
        first.init(context);
        first.process(new Record<>(newcomer.keyId(), arrived(request), request.timestamp().toEpochMilli()));
        assertThat(judged()).as("held, not refused").isEmpty();
        assertThat(buffer.approximateNumEntries()).isOne();
        first.close(); // the crash, its key state appended a moment before it still unread

        RequestJudge again = judge();
        context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + 60_000); // restarted a minute later
        again.init(context);
        punctuateAt(context.currentSystemTimeMs() + GRACE.toMillis() - 1);
        assertThat(judged()).as("waits a grace from the restart").isEmpty();
        keys.put(newcomer.keyId(), newcomer.state(KeyStatus.ACTIVE, T0.plus(Duration.ofDays(30)), T0), T0.toEpochMilli());
        punctuateAt(context.currentSystemTimeMs() + 1);

        assertThat(judged()).singleElement().satisfies(d -> {
            assertThat(d.request().requestId()).isEqualTo("held");
            assertThat(d.accepted()).isTrue();
        });
        assertThat(buffer.approximateNumEntries()).isZero();
    }

    /** A held request that lived only in an aborted transaction is judged once when its record is read again. */
    @Test
    void aHeldRequestOfAnAbortedTransactionIsJudgedOnceWhenReadAgain() {
        TestKey stranger = TestKey.create("acme", "cred-3", 1);
        RequestLog request = stranger.request("stranger", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        Record<String, ArrivedRequest> record = new Record<>(stranger.keyId(), arrived(request),
                request.timestamp().toEpochMilli());
        context.setCurrentSystemTimeMs(T0.plus(Duration.ofHours(1)).toEpochMilli());
        context.setRecordMetadata(Topics.REQUESTS.name(), 0, 5);
        RequestJudge judge = judge();
        judge.init(context);
        judge.process(record);

        buffer.put(new RequestJudge.Slot(request.timestamp().toEpochMilli(), 5).key(), null); // rolled back
        judge.close();
        judge.init(context);
        judge.process(record);
        punctuateAt(context.currentSystemTimeMs() + GRACE.toMillis());

        assertThat(judged()).singleElement().satisfies(d -> {
            assertThat(d.request().requestId()).isEqualTo("stranger");
            assertThat(d.reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
        });
        assertThat(buffer.approximateNumEntries()).isZero();
    }

    /** Requests restored from a buffer written under a grace, the task now run without one: real time releases them. */
    @Test
    void withoutAGraceRestoredRequestsAreReleasedByRealTimeToo() {
        RequestLog waiting = key.request("waited", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        buffer.put(new RequestJudge.Slot(waiting.timestamp().toEpochMilli(), 3).key(), arrived(waiting));
        RequestJudge judge = new RequestJudge("keys", "latest", "buffer", Duration.ZERO,
                new OutcomeCounters(registry, "judged", "test", "accepted"));
        judge.init(context);

        punctuateAt(T0.plusSeconds(5).toEpochMilli());

        assertThat(judged()).extracting(d -> d.request().requestId()).containsExactly("waited");
        assertThat(buffer.approximateNumEntries()).isZero();
    }

    /** The wall-clock check of the judge initialised last, at {@code now} (the mock keeps closed ones' too). */
    private void punctuateAt(long now) {
        context.setCurrentSystemTimeMs(now);
        List<MockProcessorContext.CapturedPunctuator> scheduled = context.scheduledPunctuators();
        scheduled.get(scheduled.size() - 1).getPunctuator().punctuate(now);
    }

    private static ArrivedRequest arrived(RequestLog request) {
        return MeteringSerdes.ARRIVED_REQUEST.deserializer().deserialize(Topics.REQUESTS.name(),
                Topics.REQUESTS.valueSerde().serializer().serialize(Topics.REQUESTS.name(), request));
    }
}
