package io.keymeter.platform.streams;

import io.keymeter.events.ApiKeys;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The dead letter for a record that failed: what Kafka's own handlers send (the source key, value, timestamp and
 * headers, then KIP-1034's headers saying why), kept within the size the producer will send. A record near the
 * size limit plus a stack trace is over it, and a dead letter the producer refuses fails the stream thread, which
 * then meets the same record again, for ever. So an oversized letter leaves out, in turn, the failed record as its
 * processor got it ({@link #FAILED_RECORD}), the value, most of the trace and message, then the key and the source
 * headers, each with a header saying what was left out; the record itself stays on its topic at the partition and
 * offset the letter names. Every key's secret in what the letter copies is masked ({@link ApiKeys#redact}).
 */
final class DeadLetterRecord {

    static final String EXCEPTION = "__streams.errors.exception";
    static final String MESSAGE = "__streams.errors.message";
    static final String STACKTRACE = "__streams.errors.stacktrace";
    static final String TOPIC = "__streams.errors.topic";
    static final String PARTITION = "__streams.errors.partition";
    static final String OFFSET = "__streams.errors.offset";
    static final String OMITTED = "keymeter.errors.omitted";
    /**
     * The record as the processor that failed got it, as JSON ({@link FailedRecordJson}): a processor may forward
     * records other than the source record of the moment (a request it held, released by the next record or a
     * punctuation), and the source key and value then describe another record, or none.
     */
    static final String FAILED_RECORD = "keymeter.errors.record";
    /** The failed record's own time, when the letter could not carry it (see {@link #of}). */
    static final String TIMESTAMP = "keymeter.errors.timestamp";
    /** ProducerConfig's default {@code max.request.size}. */
    static final int DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;
    /** Room for what Kafka adds around key, value and headers: batch header, record framing, varints. */
    static final int FRAMING_BYTES = 1024;
    /** The six header names, partition and offset, and the note on what was left out (about 250 bytes), rounded up. */
    static final int NOTES_BYTES = 512;
    /** What is kept of the stack trace and the message when the letter is too large. */
    static final int SHRUNK_TEXT_CHARS = 4096;

    private DeadLetterRecord() {
    }

    /** The producer's size limit for the Streams application configured by {@code configs}. */
    static int maxRequestSize(Map<String, ?> configs) {
        Object limit = configs.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        if (limit == null) {
            limit = configs.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        }
        return limit == null ? DEFAULT_MAX_REQUEST_SIZE : Integer.parseInt(String.valueOf(limit).trim());
    }

    /**
     * The letter carries the failed record's time, or {@code now} when that lies ahead of it (or before 1970): the
     * broker refuses a record stamped more than {@code message.timestamp.after.max.ms} (an hour by default) ahead of
     * its clock, and a dead letter the producer cannot send fails the stream thread, which meets the record again.
     * A request stamped 2100-01-01 produced straight to {@code keymeter.requests} stopped metering for every account
     * that way (its five thread failures in ten minutes). The record's own time is then in a header. For a processing
     * failure, {@code failed} is the record the failing processor got, in header {@link #FAILED_RECORD} (left out
     * first when the letter is too large, or when it cannot be written as JSON); null for a record not read.
     */
    static ProducerRecord<byte[], byte[]> of(String topic, ErrorHandlerContext context, Record<?, ?> failed,
                                             Exception exception, int maxRequestSize, long now) {
        int budget = maxRequestSize - FRAMING_BYTES;
        // a gateway producing directly may have put a plaintext key anywhere: as the keyId, in a field of its own,
        // in a header; what the letter copies has every key's secret masked (same length, so the sizes hold)
        byte[] key = ApiKeys.redact(context.sourceRawKey());
        byte[] value = ApiKeys.redact(context.sourceRawValue());
        List<Header> source = new ArrayList<>();
        if (context.headers() != null) {
            for (Header header : context.headers()) {
                source.add(new RecordHeader(header.key(), ApiKeys.redact(header.value())));
            }
        }
        String message = ApiKeys.redact(exception.getMessage());
        String trace = ApiKeys.redact(stackTrace(exception));
        // a punctuation has no source record: no topic (its header is then null, as Kafka's own handlers write it)
        String sourceTopic = context.topic() == null ? "" : context.topic();
        // what no step below shortens: the exception's name, the topic twice (its header, the note), NOTES_BYTES
        long fixed = NOTES_BYTES + 3L * (exception.getClass().getName().length() + 2L * sourceTopic.length());
        List<String> omitted = new ArrayList<>();
        String rendered = failed == null ? null : ApiKeys.redact(FailedRecordJson.of(failed));
        long renderedSize = rendered == null ? 0 : 3L * (FAILED_RECORD.length() + rendered.length());
        if (rendered != null && size(key, value, source, message, trace, fixed + renderedSize) > budget) {
            omitted.add("the failed record as its processor got it (" + rendered.length() + " chars)");
            rendered = null;
            renderedSize = 0;
        }
        fixed += renderedSize;
        if (size(key, value, source, message, trace, fixed) > budget && value != null) {
            omitted.add("value (" + value.length + " bytes)");
            value = null;
        }
        if (size(key, value, source, message, trace, fixed) > budget) {
            omitted.add("most of the stack trace and message");
            message = shrink(message);
            trace = shrink(trace);
        }
        if (size(key, value, source, message, trace, fixed) > budget) {
            omitted.add("key (" + (key == null ? 0 : key.length) + " bytes) and " + source.size() + " source headers");
            key = null;
            source = List.of();
        }
        boolean restamped = context.timestamp() < 0 || context.timestamp() > now;
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null,
                restamped ? now : context.timestamp(), key, value);
        source.forEach(letter.headers()::add);
        if (restamped) {
            letter.headers().add(TIMESTAMP, utf8(String.valueOf(context.timestamp())));
        }
        addWhy(letter.headers(), exception, message, trace, context);
        if (rendered != null) {
            letter.headers().add(FAILED_RECORD, utf8(rendered));
        }
        if (!omitted.isEmpty()) {
            letter.headers().add(OMITTED, utf8(String.join(", ", omitted) + ": too large for a dead letter within "
                    + "max.request.size " + maxRequestSize + (context.topic() == null ? "" : "; the record is on "
                    + context.topic() + " partition " + context.partition() + " at offset " + context.offset())));
        }
        return letter;
    }

    private static void addWhy(Headers headers, Exception exception, String message, String trace,
                               ErrorHandlerContext context) {
        headers.add(EXCEPTION, utf8(exception.getClass().getName()))
                .add(MESSAGE, utf8(message))
                .add(STACKTRACE, utf8(trace))
                .add(TOPIC, utf8(context.topic()))
                .add(PARTITION, utf8(String.valueOf(context.partition())))
                .add(OFFSET, utf8(String.valueOf(context.offset())));
    }

    /**
     * An upper bound of the letter's bytes before framing: strings count 3 bytes a char (UTF-8's most in the BMP; a
     * surrogate pair is 4 bytes for 2 chars); {@code fixed} is what every letter of this failure carries.
     */
    private static long size(byte[] key, byte[] value, List<Header> source, String message, String trace,
                             long fixed) {
        long bytes = fixed + length(key) + length(value) + 3L * (length(message) + length(trace));
        for (Header header : source) {
            bytes += 3L * header.key().length() + length(header.value()) + 16;
        }
        return bytes;
    }

    private static String shrink(String text) {
        return text == null || text.length() <= SHRUNK_TEXT_CHARS ? text
                : text.substring(0, SHRUNK_TEXT_CHARS) + "… (" + (text.length() - SHRUNK_TEXT_CHARS) + " more chars)";
    }

    static String stackTrace(Exception exception) {
        StringWriter trace = new StringWriter();
        exception.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static int length(String text) {
        return text == null ? 0 : text.length();
    }

    private static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
