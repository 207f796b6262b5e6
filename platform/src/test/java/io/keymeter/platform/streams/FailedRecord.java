package io.keymeter.platform.streams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.TaskId;

/** A record that failed in the dedupe, on a partition of the request log, as Kafka Streams describes it. */
record FailedRecord(int partition, long offset, byte[] sourceRawKey, byte[] sourceRawValue, Headers headers,
                    long timestamp) implements ErrorHandlerContext {

    /** Stamped 2025-12-02T03:00:00Z. */
    FailedRecord(int partition, long offset, byte[] sourceRawKey, byte[] sourceRawValue, Headers headers) {
        this(partition, offset, sourceRawKey, sourceRawValue, headers, 1_764_644_400_000L);
    }

    /** A small request with two source headers (one without a value). */
    static FailedRecord at(int partition, long offset) {
        return new FailedRecord(partition, offset, "key-1".getBytes(StandardCharsets.UTF_8),
                "{\"units\":-1000}".getBytes(StandardCharsets.UTF_8),
                new RecordHeaders().add("traceparent", "00-abc-def-01".getBytes(StandardCharsets.UTF_8))
                        .add("empty", null));
    }

    /** A dead letter's header, as text. */
    static String header(ProducerRecord<byte[], byte[]> letter, String key) {
        return new String(letter.headers().lastHeader(key).value(), StandardCharsets.UTF_8);
    }

    @Override
    public String topic() {
        return "keymeter.requests";
    }

    @Override
    public String processorNodeId() {
        return "dedupe";
    }

    @Override
    public TaskId taskId() {
        return new TaskId(1, partition);
    }
}
