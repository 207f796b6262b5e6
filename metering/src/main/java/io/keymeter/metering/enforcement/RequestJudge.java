package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * state as of the request's own timestamp, read from the versioned key-state store, after waiting {@code grace} of
 * (request) stream time so that a key-state update stamped before the request but arriving after it is still seen.
 * <p>
 * Why not {@code leftJoin(table, Joined.withGracePeriod(...))}: its RocksDB time-ordered buffer opens an iterator
 * over tombstones on every record and ran at 0.05x of a pass-through here (see the module README). This buffer is an
 * in-memory, changelogged store keyed by {@code <timestamp>/<offset>} (sorted by time, so eviction is one short
 * range read); it holds at most {@code grace} worth of requests. Requests already older than stream time minus
 * grace, and every request when grace is zero, are judged on arrival. When traffic pauses, a wall-clock check
 * judges what has waited {@code grace} of real time, so the last requests before a pause are not held back.
 */
public final class RequestJudge implements Processor<String, RequestLog, String, Decision> {

    static final Duration WALL_CLOCK_CHECK = Duration.ofMillis(500);

    private final String keyStoreName;
    private final String bufferStoreName;
    private final long graceMs;
    private final RequestKeyJoiner joiner = new RequestKeyJoiner();
    private ProcessorContext<String, Decision> context;
    private VersionedKeyValueStore<String, ApiKeyState> keys;
    private KeyValueStore<String, RequestLog> buffer;
    private long observedStreamTime = Long.MIN_VALUE;
    private long sequence;

    public RequestJudge(String keyStoreName, String bufferStoreName, Duration grace) {
        this.keyStoreName = keyStoreName;
        this.bufferStoreName = bufferStoreName;
        this.graceMs = grace.toMillis();
    }

    @Override
    public void init(ProcessorContext<String, Decision> context) {
        this.context = context;
        this.keys = context.getStateStore(keyStoreName);
        this.buffer = context.getStateStore(bufferStoreName);
        try (KeyValueIterator<String, RequestLog> newest = buffer.reverseAll()) {
            if (newest.hasNext()) {
                observedStreamTime = timestampOf(newest.next().key);
            }
        }
        if (graceMs > 0) {
            // when traffic pauses, stream time stands still: real time passing the grace releases the last requests
            context.schedule(WALL_CLOCK_CHECK, PunctuationType.WALL_CLOCK_TIME,
                    now -> evictUpTo(Math.max(observedStreamTime, now) - graceMs));
        }
    }

    @Override
    public void process(Record<String, RequestLog> record) {
        long timestamp = record.timestamp();
        observedStreamTime = Math.max(observedStreamTime, timestamp);
        if (graceMs == 0 || timestamp <= observedStreamTime - graceMs) {
            judge(record.key(), record.value(), timestamp);
        } else {
            long offset = context.recordMetadata().map(m -> m.offset()).orElse(sequence++);
            buffer.put(bufferKey(timestamp, offset), record.value());
        }
        evictUpTo(observedStreamTime - graceMs);
    }

    private void evictUpTo(long cutoff) {
        if (graceMs == 0) {
            return;
        }
        List<KeyValue<String, RequestLog>> due = new ArrayList<>();
        try (KeyValueIterator<String, RequestLog> entries = buffer.range(null, String.format(Locale.ROOT, "%016x~", cutoff))) {
            entries.forEachRemaining(due::add);
        }
        for (KeyValue<String, RequestLog> entry : due) {
            buffer.delete(entry.key);
            judge(entry.value.keyId(), entry.value, timestampOf(entry.key));
        }
    }

    private void judge(String keyId, RequestLog request, long timestamp) {
        VersionedRecord<ApiKeyState> state = keyId == null ? null : keys.get(keyId, timestamp);
        context.forward(new Record<>(keyId, joiner.apply(request, state == null ? null : state.value()), timestamp));
    }

    /** Sorts by time: 16 hex digits of the (non-negative) timestamp, then the input offset for uniqueness. */
    static String bufferKey(long timestamp, long offset) {
        return String.format(Locale.ROOT, "%016x/%016x", timestamp, offset);
    }

    static long timestampOf(String bufferKey) {
        return Long.parseUnsignedLong(bufferKey.substring(0, 16), 16);
    }
}
