package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Forwards the first request with a given {@code requestId} and drops repeats seen within the dedupe window.
 * <p>
 * The store maps requestId → the request time when it was first seen: the newest request timestamp this task had
 * processed by then (a requestId always travels with the same keyId, so this is partition-local). Not the request's
 * own time: a request up to max-age old is still remembered for the whole window after it arrives. Not the task's
 * stream time either: that includes the key-state partition, whose records can run days ahead of a request backlog
 * (metering catching up after an outage), and would end the window of requests seen just before the outage (the
 * crash test found resends counted twice that way). The request time is kept in memory: after a restart it starts
 * again from the first request processed, which is never later than before, so entries only look younger.
 * <p>
 * One point lookup per request (a window store's per-record range scan was several times slower); an entry older
 * than the window no longer counts even before it is removed, and a sweeper removes expired entries a bounded batch
 * at a time, so no punctuation stalls the task.
 * Nothing but a repeat is dropped: a request without a requestId passes.
 */
public final class Deduplicator implements FixedKeyProcessor<String, ArrivedRequest, ArrivedRequest> {

    static final Duration SWEEP_INTERVAL = Duration.ofSeconds(1);
    static final int SWEEP_BATCH = 10_000;

    private final String storeName;
    private final long windowMs;
    private FixedKeyProcessorContext<String, ArrivedRequest> context;
    private KeyValueStore<String, Long> seen;
    private String sweepFrom;
    private long requestTime = Long.MIN_VALUE;

    public Deduplicator(String storeName, Duration window) {
        this.storeName = storeName;
        this.windowMs = window.toMillis();
    }

    @Override
    public void init(FixedKeyProcessorContext<String, ArrivedRequest> context) {
        this.context = context;
        this.seen = context.getStateStore(storeName);
        context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> sweep());
    }

    @Override
    public void process(FixedKeyRecord<String, ArrivedRequest> record) {
        RequestLog request = record.value() == null ? null : record.value().log();
        if (request == null) {
            // a tombstone on the request log is not a request: fail it so it lands on the dead-letter topic
            throw new IllegalArgumentException("request record without a value");
        }
        if (request.timestamp() == null) {
            // judged and counted at its event time, which the timestamp extractor took from the record
            request = request.withTimestampIfMissing(record.timestamp());
            record = record.withValue(record.value().withLog(request));
        }
        String requestId = request.requestId();
        if (requestId == null) {
            context.forward(record);
            return;
        }
        requestTime = Math.max(requestTime, record.timestamp());
        long now = requestTime;
        Long firstSeen = seen.get(requestId);
        if (firstSeen != null && firstSeen > now - windowMs) {
            return; // a resend within the window: already counted
        }
        seen.put(requestId, now);
        context.forward(record);
    }

    /** Removes up to {@link #SWEEP_BATCH} expired entries, continuing where the last sweep stopped. */
    void sweep() {
        if (requestTime == Long.MIN_VALUE) {
            return; // nothing processed since (re)start: no notion of time yet
        }
        long cutoff = requestTime - windowMs;
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, Long> entries = sweepFrom == null ? seen.all() : seen.range(sweepFrom, null)) {
            int visited = 0;
            while (entries.hasNext() && visited++ < SWEEP_BATCH) {
                KeyValue<String, Long> entry = entries.next();
                if (entry.value <= cutoff) {
                    expired.add(entry.key);
                }
            }
            sweepFrom = entries.hasNext() ? entries.peekNextKey() : null;
        }
        expired.forEach(seen::delete);
    }
}
