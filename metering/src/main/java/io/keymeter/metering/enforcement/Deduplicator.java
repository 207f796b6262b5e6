package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Forwards the first request with a given {@code requestId} and drops repeats seen within the dedupe window.
 * <p>
 * The store is a window store keyed by requestId (a requestId always travels with the same keyId, so it is
 * partition-local). Entries are written at the task's stream time, not the request's own time: an old request
 * (up to max-age) is then never "expired" by the store on arrival (which would count as a dropped record), and
 * the window is "seen within the last dedupe-window of stream time". Old segments expire by themselves.
 * Nothing but a repeat is dropped: a request without a requestId passes.
 */
public final class Deduplicator implements FixedKeyProcessor<String, RequestLog, RequestLog> {

    private final String storeName;
    private final long windowMs;
    private FixedKeyProcessorContext<String, RequestLog> context;
    private WindowStore<String, Long> seen;

    public Deduplicator(String storeName, Duration window) {
        this.storeName = storeName;
        this.windowMs = window.toMillis();
    }

    @Override
    public void init(FixedKeyProcessorContext<String, RequestLog> context) {
        this.context = context;
        this.seen = context.getStateStore(storeName);
    }

    @Override
    public void process(FixedKeyRecord<String, RequestLog> record) {
        RequestLog request = record.value();
        if (request == null) {
            // a tombstone on the request log is not a request: fail it so it lands on the dead-letter topic
            throw new IllegalArgumentException("request record without a value");
        }
        if (request.timestamp() == null) {
            // judged and counted at its event time, which the timestamp extractor took from the record
            request = new RequestLog(request.requestId(), request.keyId(), request.secretHash(), request.service(),
                    request.operation(), request.units(), request.itemId(), request.referrer(),
                    Instant.ofEpochMilli(record.timestamp()));
            record = record.withValue(request);
        }
        String requestId = request.requestId();
        if (requestId == null) {
            context.forward(record);
            return;
        }
        long now = Math.max(context.currentStreamTimeMs(), record.timestamp());
        try (WindowStoreIterator<Long> previous = seen.fetch(requestId, now - windowMs, now)) {
            if (previous.hasNext()) {
                return; // a resend: already counted
            }
        }
        seen.put(requestId, record.timestamp(), now);
        context.forward(record);
    }
}
