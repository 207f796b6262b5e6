package io.keymeter.metering.enforcement;

import io.keymeter.events.JsonSerde;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
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
        return serde(Topics.REQUESTS.valueSerde().deserializer(), true);
    }

    /**
     * The join buffer's: what it holds passed the topic's read when it arrived, perhaps an earlier version's, which
     * took what the strict read now refuses ({@code "units":"5"}): read strictly, as it was taken, else leniently, or
     * a request waiting across an upgrade would fail the task's start for good (its store is read back on every
     * start, outside the dead-letter handlers). Not leniently alone: Jackson's reader of times refuses a leap second
     * written with an offset, which the strict read takes.
     */
    public static Serde<ArrivedRequest> bufferedSerde() {
        Deserializer<RequestLog> strict = Topics.REQUESTS.valueSerde().deserializer();
        Deserializer<RequestLog> lenient = new JsonSerde<>(RequestLog.class);
        return serde((topic, data) -> {
            try {
                return strict.deserialize(topic, data);
            } catch (SerializationException refused) {
                try {
                    return lenient.deserialize(topic, data);
                } catch (SerializationException alsoRefused) {
                    alsoRefused.addSuppressed(refused);
                    throw alsoRefused;
                }
            }
        }, false);
    }

    private static Serde<ArrivedRequest> serde(Deserializer<RequestLog> fallback, boolean refuseMisspellings) {
        RequestLogReader logs = new RequestLogReader(fallback, refuseMisspellings);
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
