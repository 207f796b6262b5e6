package io.keymeter.platform.streams;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record that cannot be read or processed to the dead-letter topic and lets processing continue, like
 * Kafka's LogAndContinue handlers and with the same record: the source key, value, timestamp and headers, plus
 * KIP-1034's headers saying why. Kafka's handlers also log every such record with its whole stack trace (about 180
 * lines), so a gateway with a broken clock would flood the log; this one logs a line without it, then at most one
 * line per {@link DeadLetterLog#INTERVAL} per task, saying how many it left out. Kafka's {@code dropped-records}
 * metric counts every one; the stack trace travels on the dead letter (and in the log at DEBUG).
 */
public class DeadLetterHandler implements ProcessingExceptionHandler, DeserializationExceptionHandler {

    public static final String EXCEPTION = "__streams.errors.exception";
    public static final String MESSAGE = "__streams.errors.message";
    public static final String STACKTRACE = "__streams.errors.stacktrace";
    public static final String TOPIC = "__streams.errors.topic";
    public static final String PARTITION = "__streams.errors.partition";
    public static final String OFFSET = "__streams.errors.offset";
    /** Enough of an exception's message for a log line; the whole of it is on the dead letter. */
    static final int LOGGED_MESSAGE_CHARS = 300;

    private static final Logger log = LoggerFactory.getLogger(DeadLetterHandler.class);

    private final Clock clock;
    private String deadLetterTopic;
    private DeadLetterLog sampled;

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
        sampled = new DeadLetterLog(clock, log::warn);
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record,
                                                           Exception exception) {
        return ProcessingExceptionHandler.Response.resume(deadLetters(context, exception));
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
                                                                ConsumerRecord<byte[], byte[]> record,
                                                                Exception exception) {
        return DeserializationExceptionHandler.Response.resume(deadLetters(context, exception));
    }

    private List<ProducerRecord<byte[], byte[]>> deadLetters(ErrorHandlerContext context, Exception exception) {
        if (log.isDebugEnabled()) {
            log.debug("Record {}-{}@{} failed in {}", context.topic(), context.partition(), context.offset(),
                    context.processorNodeId(), exception);
        }
        sampled.record(() -> describe(context, exception));
        return deadLetterTopic == null ? List.of() : List.of(deadLetter(deadLetterTopic, context, exception));
    }

    /** The dead letter Kafka's own handlers would send for this failure. */
    static ProducerRecord<byte[], byte[]> deadLetter(String topic, ErrorHandlerContext context, Exception exception) {
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null, context.timestamp(),
                context.sourceRawKey(), context.sourceRawValue());
        for (Header header : context.headers()) {
            letter.headers().add(header);
        }
        StringWriter trace = new StringWriter();
        exception.printStackTrace(new PrintWriter(trace));
        letter.headers().add(EXCEPTION, utf8(exception.getClass().getName()))
                .add(MESSAGE, utf8(exception.getMessage()))
                .add(STACKTRACE, utf8(trace.toString()))
                .add(TOPIC, utf8(context.topic()))
                .add(PARTITION, utf8(String.valueOf(context.partition())))
                .add(OFFSET, utf8(String.valueOf(context.offset())));
        return letter;
    }

    private String describe(ErrorHandlerContext context, Exception exception) {
        String message = String.valueOf(exception.getMessage());
        if (message.length() > LOGGED_MESSAGE_CHARS) {
            message = message.substring(0, LOGGED_MESSAGE_CHARS) + "…";
        }
        return "Record " + context.topic() + "-" + context.partition() + "@" + context.offset() + " (task "
                + context.taskId() + ", processor " + context.processorNodeId() + ") sent to "
                + (deadLetterTopic == null ? "no dead-letter topic" : deadLetterTopic) + ": "
                + exception.getClass().getName() + ": " + message + ". Its stack trace is in the " + STACKTRACE
                + " header; at most one such line per " + DeadLetterLog.INTERVAL.toSeconds()
                + " s per task, dropped-records counts them all";
    }

    private static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
