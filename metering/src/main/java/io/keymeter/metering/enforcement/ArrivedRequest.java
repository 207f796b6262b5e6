package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A request as metering read it: the parsed log and the exact bytes it arrived as. The bytes let the join buffer
 * write a waiting request to its changelog without serializing it again (the profile of the buffered join showed
 * JSON writing and re-reading as its largest cost).
 */
public record ArrivedRequest(RequestLog log, byte[] raw) {

    /**
     * Reads a {@code keymeter.requests} value as the topic's own serde does (through {@link RequestLogReader}, which
     * is faster for the usual shape) and keeps its bytes; writes the kept bytes back unchanged. Null stays null, so
     * a tombstone still reaches the deduplicator (which fails it to the dead-letter topic).
     */
    public static Serde<ArrivedRequest> serde() {
        RequestLogReader logs = new RequestLogReader(Topics.REQUESTS.valueSerde().deserializer());
        return Serdes.serdeFrom((topic, arrived) -> arrived == null ? null : arrived.raw(),
                (topic, data) -> data == null ? null : new ArrivedRequest(logs.read(topic, data), data));
    }

    public ArrivedRequest withLog(RequestLog replaced) {
        return new ArrivedRequest(replaced, raw);
    }

    @Override
    public String toString() {
        return "ArrivedRequest[" + log + ", " + raw.length + " bytes]";
    }
}
