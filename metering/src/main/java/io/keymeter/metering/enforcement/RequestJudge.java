package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.VersionedRecord;

/**
 * The versioned stream-table join with a grace period, done by hand: each request is judged against its key's
 * state as of the request's own timestamp, read from the versioned key-state store, once {@code grace} of real
 * time has passed its timestamp, so that a key-state update stamped before the request but arriving after it is
 * still seen.
 * <p>
 * Why not {@code leftJoin(table, Joined.withGracePeriod(...))}: its RocksDB time-ordered buffer opens an iterator
 * over tombstones on every record and ran at 0.05x of a pass-through here (see the module README).
 * <p>
 * Waiting requests live twice: as objects in a time-ordered map that eviction reads (no deserialization, no
 * iterator per record), and as their arrival bytes in a changelogged store keyed by 16 bytes of
 * {@code (timestamp, offset)}, so a request waiting at a crash is restored (the map is rebuilt from the store at
 * initialization). A request is judged once real time has passed its timestamp plus the grace: on arrival for one
 * already older (a backlog being caught up) and for every request when grace is zero; else on a later record or on
 * a wall-clock check every 500 ms, so the last requests before a pause are not held back.
 * <p>
 * Real time, not stream time: one gateway whose clock runs ahead (ingest and {@link RequestBounds} allow minutes)
 * would carry stream time with it, and every other request on its partition would then be judged on arrival,
 * without the grace, until real time caught up. And never more than twice the grace after it arrived, whatever its
 * stamp: a request stamped ahead of this instance's clock (that gateway's clock fast, or this one's slow) would
 * otherwise wait, in memory and unbilled, until this clock reached its stamp, minutes.
 * <p>
 * A backlog request its key does not know (no state at its time, or another secret) is not refused at once but held
 * the grace by this instance's clock and judged again: Streams takes an empty key-state partition for read to its end
 * by the lag its last fetch saw, so a key state appended just before the requests that use it can be read after
 * them. Held requests are in the buffer store too; restored after a stop, they and the waiting requests stamped
 * before the restart wait a grace from it, while the key states appended before the stop are read again.
 */
public final class RequestJudge implements Processor<String, ArrivedRequest, String, Decision> {

    static final Duration WALL_CLOCK_CHECK = Duration.ofMillis(500);

    /** Position of a waiting request: its time, then its input offset (unique within the task). */
    record Slot(long timestamp, long offset) {
        static final Comparator<Slot> ORDER = Comparator.comparingLong(Slot::timestamp).thenComparingLong(Slot::offset);

        Bytes key() {
            return Bytes.wrap(ByteBuffer.allocate(16).putLong(timestamp).putLong(offset).array());
        }

        static Slot of(Bytes key) {
            ByteBuffer buffer = ByteBuffer.wrap(key.get());
            return new Slot(buffer.getLong(), buffer.getLong());
        }
    }

    private final String keyStoreName;
    private final String bufferStoreName;
    private final String latestStoreName;
    private final long graceMs;
    private final OutcomeCounters outcomes;
    private final RequestKeyJoiner joiner = new RequestKeyJoiner();
    private final TreeMap<Slot, RequestLog> waiting = new TreeMap<>(Slot.ORDER);
    /** Waiting requests in arrival order, with their arrival time; those already judged are skipped. */
    private final ArrayDeque<Arrival> arrivals = new ArrayDeque<>();
    /**
     * Backlog requests their key did not know on arrival, and requests restored stamped before the restart: in
     * arrival order, each judged (again) a grace after it arrived.
     */
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final long maxWaitMs;
    private ProcessorContext<String, Decision> context;
    private VersionedKeyValueStore<String, ApiKeyState> keys;
    private LatestKeyStates latest;
    private KeyValueStore<Bytes, ArrivedRequest> buffer;
    private long sequence;

    /**
     * {@code latestStoreName}: the {@link LatestKeyStates} in front of the versioned store {@code keyStoreName};
     * {@code outcomes} counts every decision by its reason.
     */
    public RequestJudge(String keyStoreName, String latestStoreName, String bufferStoreName, Duration grace,
                        OutcomeCounters outcomes) {
        this.keyStoreName = keyStoreName;
        this.latestStoreName = latestStoreName;
        this.bufferStoreName = bufferStoreName;
        this.graceMs = grace.toMillis();
        this.maxWaitMs = 2 * graceMs;
        this.outcomes = outcomes;
    }

    @Override
    public void init(ProcessorContext<String, Decision> context) {
        this.context = context;
        this.keys = context.getStateStore(keyStoreName);
        VersionedStoreSegments.registerExisting(keys); // history kept across a restart (see there)
        this.latest = context.getStateStore(latestStoreName);
        // a task recycled active -> standby -> active keeps its stores without initialising them again, and as a
        // standby its versioned store was restored with no listener to forget what changed: a key invalidated then
        // was still held active here, its requests accepted and billed
        latest.clear();
        this.buffer = context.getStateStore(bufferStoreName);
        // Kafka Streams revives a corrupted task (a commit timed out under exactly-once) with these same objects, on
        // stores rolled back to their last commit: what waited only in the aborted transaction is read again from
        // its topic, so memory starts from the buffer store alone (a stale copy was judged too: billed twice)
        waiting.clear();
        arrivals.clear();
        held.clear();
        // the real clock here since Kafka 4.2 (KAFKA-19638); before, 0 until the first record or punctuation
        long now = context.currentSystemTimeMs();
        try (KeyValueIterator<Bytes, ArrivedRequest> restored = buffer.all()) {
            while (restored.hasNext()) {
                KeyValue<Bytes, ArrivedRequest> entry = restored.next();
                Slot slot = Slot.of(entry.key);
                RequestLog request = entry.value.log().withTimestampIfMissing(slot.timestamp());
                if (slot.timestamp() <= now) {
                    // a key state it waits for may still be unread on its topic (the store restored only what was
                    // read before the stop): a grace from now, even if its own grace has passed or nearly so
                    held.add(new Held(slot, request, now));
                } else {
                    waiting.put(slot, request);
                    arrivals.add(new Arrival(slot, now)); // arrived again, as far as the wait is concerned
                }
            }
        }
        // when traffic pauses, no record comes to release the last requests: real time does (with no grace too,
        // for requests restored from a buffer written under one: they waited for the next request of their task)
        context.schedule(WALL_CLOCK_CHECK, PunctuationType.WALL_CLOCK_TIME, this::release);
    }

    @Override
    public void process(Record<String, ArrivedRequest> record) {
        long timestamp = record.timestamp();
        // in a backlog (catching up after an outage) key states stamped before a request are long in Kafka, and
        // Streams reads them first (it orders a task's partitions by timestamp and waits for a partition it knows
        // has unread records): judged at once, unless its key is unknown (judgeOrHold)
        long now = context.currentSystemTimeMs();
        if (graceMs == 0) {
            judge(record.key(), record.value().log(), timestamp);
        } else if (timestamp <= now - graceMs) {
            judgeOrHold(record, now);
        } else {
            Slot slot = bufferSlot(record);
            waiting.put(slot, record.value().log());
            arrivals.add(new Arrival(slot, now));
        }
        release(now);
    }

    /**
     * A backlog request is judged at once, but one its key does not know is held the grace first: its key's state
     * may have been appended a moment before it and not yet fetched (see the class comment).
     */
    private void judgeOrHold(Record<String, ArrivedRequest> record, long now) {
        String keyId = record.key();
        RequestLog request = record.value().log();
        Decision decision = decide(keyId, request, record.timestamp());
        if (keyId != null && decision.reason() == RejectionReason.UNKNOWN_KEY) {
            held.add(new Held(bufferSlot(record), request, now));
        } else {
            emit(keyId, decision, record.timestamp());
        }
    }

    /** Puts the request's arrival bytes in the buffer store, so that a crash does not lose it while it waits. */
    private Slot bufferSlot(Record<String, ArrivedRequest> record) {
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(sequence++);
        Slot slot = new Slot(record.timestamp(), offset);
        buffer.put(slot.key(), record.value());
        return slot;
    }

    /** Judges what real time has taken past its stamp plus the grace, and what has waited its longest. */
    private void release(long now) {
        evictUpTo(now - graceMs);
        Held done;
        while ((done = held.peekFirst()) != null && done.at() <= now - graceMs) {
            held.pollFirst();
            judgeWaiting(done.slot(), done.request());
        }
        Arrival first;
        while ((first = arrivals.peekFirst()) != null && first.at() <= now - maxWaitMs) {
            arrivals.pollFirst();
            RequestLog request = waiting.remove(first.slot());
            if (request != null) { // else judged by its stamp already
                judgeWaiting(first.slot(), request);
            }
        }
    }

    /** A waiting request's slot and when it arrived, by this instance's clock. */
    private record Arrival(Slot slot, long at) {
    }

    /** A held backlog request, its slot in the buffer store and when it arrived, by this instance's clock. */
    private record Held(Slot slot, RequestLog request, long at) {
    }

    private void evictUpTo(long cutoff) {
        Map.Entry<Slot, RequestLog> next;
        while ((next = waiting.firstEntry()) != null && next.getKey().timestamp() <= cutoff) {
            waiting.pollFirstEntry();
            judgeWaiting(next.getKey(), next.getValue());
        }
    }

    /** Judges a request taken out of the waiting map, and removes it from the buffer store. */
    private void judgeWaiting(Slot slot, RequestLog request) {
        buffer.put(slot.key(), null); // not delete(): that reads and parses the old value to return it
        judge(request.keyId(), request, slot.timestamp());
    }

    private void judge(String keyId, RequestLog request, long timestamp) {
        emit(keyId, decide(keyId, request, timestamp), timestamp);
    }

    private Decision decide(String keyId, RequestLog request, long timestamp) {
        VersionedRecord<ApiKeyState> state = keyId == null ? null : stateAt(keyId, timestamp);
        return joiner.apply(request, state == null ? null : state.value());
    }

    private void emit(String keyId, Decision decision, long timestamp) {
        outcomes.count(decision.reason());
        context.forward(new Record<>(keyId, decision, timestamp));
    }

    /**
     * The key's state at the request's time: the latest one held in memory when it covers that time, otherwise the
     * versioned store's answer. A key with no state held yet also gets its latest state read once and held from then
     * on, whatever the request's time. (That takes a read of its own: a record read as of a time comes back through
     * the store's layers without its {@code validTo}, so it cannot tell whether it is the latest.)
     */
    private VersionedRecord<ApiKeyState> stateAt(String keyId, long timestamp) {
        VersionedRecord<ApiKeyState> state = latest.get(keyId, timestamp);
        if (state != null) {
            return state;
        }
        state = keys.get(keyId, timestamp);
        if (state != null && !latest.holds(keyId)) {
            VersionedRecord<ApiKeyState> newest = keys.get(keyId);
            if (newest != null) {
                latest.remember(keyId, newest);
            }
        }
        return state;
    }
}
