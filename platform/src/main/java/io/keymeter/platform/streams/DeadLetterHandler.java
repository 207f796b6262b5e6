package io.keymeter.platform.streams;

import io.keymeter.events.ApiKeys;
import io.keymeter.platform.SampledLog;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record that cannot be read or processed to the dead-letter topic and lets processing continue, like
 * Kafka's LogAndContinue handlers and with the same record ({@link DeadLetterRecord}: the source key, value,
 * timestamp and headers, plus KIP-1034's headers saying why), but never one too large to send. Kafka's handlers
 * also log every such record with its whole stack trace (about 180 lines), so a gateway with a broken clock would
 * flood the log; this one logs a line without it, then at most one line per {@link SampledLog#INTERVAL} per
 * task and kind (Kafka Streams makes a reading and a processing handler for each task), saying how many it left
 * out. Kafka's {@code dropped-records} metric counts every one; the stack trace travels on the dead letter (and in
 * the log at DEBUG).
 */
public class DeadLetterHandler implements ProcessingExceptionHandler, DeserializationExceptionHandler {

    /** Enough of an exception's message for a log line; the whole of it is on the dead letter. */
    static final int LOGGED_MESSAGE_CHARS = 300;

    private static final Logger log = LoggerFactory.getLogger(DeadLetterHandler.class);

    private final Clock clock;
    private String deadLetterTopic;
    private int maxRequestSize;
    private SampledLog sampled;
    /** Where failed punctuations are noted for health; absent outside a {@link StreamsApp} (tests, benchmarks). */
    private PunctuationFailures punctuationFailures;

    public DeadLetterHandler() {
        this(Clock.systemUTC());
    }

    DeadLetterHandler(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = topic == null ? null : String.valueOf(topic);
        maxRequestSize = DeadLetterRecord.maxRequestSize(configs);
        sampled = new SampledLog(clock, log::warn);
        punctuationFailures = configs.get(PunctuationFailures.CONFIG) instanceof PunctuationFailures failures
                ? failures : null;
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record,
                                                           Exception exception) {
        return ProcessingExceptionHandler.Response.resume(deadLetters(context, record, exception));
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
                                                                ConsumerRecord<byte[], byte[]> record,
                                                                Exception exception) {
        return DeserializationExceptionHandler.Response.resume(deadLetters(context, null, exception));
    }

    /**
     * Never throws: Kafka Streams takes an exception from a handler for a fatal error and fails the stream thread,
     * which then meets the same failure again (a punctuation every few hundred milliseconds, for ever). A letter that
     * cannot be built is logged and left out; dropped-records still counts the failure.
     */
    private List<ProducerRecord<byte[], byte[]>> deadLetters(ErrorHandlerContext context, Record<?, ?> failed,
                                                             Exception exception) {
        try {
            if (log.isDebugEnabled()) {
                // masked as the letter's trace is: no stack trace object, whose messages would go out as they are
                log.debug("{} failed in {}: {}", source(context), context.processorNodeId(),
                        ApiKeys.redact(DeadLetterRecord.stackTrace(exception)));
            }
            sampled.record(() -> describe(context, exception));
            if (context.topic() == null && punctuationFailures != null) {
                punctuationFailures.record(context.processorNodeId(), context.taskId(), exception, clock.millis());
            }
            return deadLetterTopic == null ? List.of()
                    : List.of(DeadLetterRecord.of(deadLetterTopic, context, failed, exception, maxRequestSize,
                            clock.millis()));
        } catch (RuntimeException e) {
            // sampled like the letters: a punctuation failing this way would otherwise log a line every run
            sampled.record(() -> "Could not build the dead letter of a failure in processor " + context.processorNodeId()
                    + " (task " + context.taskId() + "): " + described(e) + "; the failure was "
                    + described(exception));
            return List.of();
        }
    }

    /** The failed record, or the punctuation (which has no source record: no topic, partition -1). */
    private static String source(ErrorHandlerContext context) {
        return context.topic() == null ? "A punctuation"
                : "Record " + context.topic() + "-" + context.partition() + "@" + context.offset();
    }

    /** An exception's class and message, keys masked and cut as {@link #shortened} cuts, for a log line or health. */
    static String described(Exception exception) {
        return exception.getClass().getName() + ": "
                + shortened(ApiKeys.redact(String.valueOf(exception.getMessage())));
    }

    /** A message cut to {@link #LOGGED_MESSAGE_CHARS}: the whole of it is on the dead letter. */
    static String shortened(String message) {
        return message.length() > LOGGED_MESSAGE_CHARS ? message.substring(0, LOGGED_MESSAGE_CHARS) + "…" : message;
    }

    private String describe(ErrorHandlerContext context, Exception exception) {
        return source(context) + " (task "
                + context.taskId() + ", processor " + context.processorNodeId() + ") sent to "
                + (deadLetterTopic == null ? "no dead-letter topic" : deadLetterTopic) + ": "
                + described(exception) + ". Its stack trace is in the "
                + DeadLetterRecord.STACKTRACE + " header; at most one such line per "
                + SampledLog.INTERVAL.toSeconds() + " s per task, dropped-records counts them all";
    }
}
