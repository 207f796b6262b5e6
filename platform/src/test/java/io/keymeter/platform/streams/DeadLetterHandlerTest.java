package io.keymeter.platform.streams;

import static io.keymeter.platform.streams.FailedRecord.header;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.events.ApiKeys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class DeadLetterHandlerTest {

    private static final String DEAD_LETTERS = "keymeter.dead-letters";

    private final Logger logger = (Logger) LoggerFactory.getLogger(DeadLetterHandler.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    /** A clock that stands still: every failure below falls in one logging interval. */
    private final DeadLetterHandler handler = new DeadLetterHandler(
            Clock.fixed(Instant.parse("2026-12-02T03:00:00Z"), ZoneOffset.UTC));

    @BeforeEach
    void configure() {
        handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, DEAD_LETTERS));
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(logged);
    }

    /** Kafka's own builder is internal API: this test is what notices if its records change in an upgrade. */
    @Test
    void aFailedRecordBecomesTheDeadLetterKafkasOwnHandlersWouldSend() {
        FailedRecord context = FailedRecord.at(7, 42);
        IllegalArgumentException failure = new IllegalArgumentException("request units -1000 outside 1 to 2147483647");

        ProcessingExceptionHandler.Response processing = handler.handleError(context,
                new Record<>("key", "value", context.timestamp()), failure);
        DeserializationExceptionHandler.Response reading = handler.handleError(context,
                new ConsumerRecord<>(context.topic(), context.partition(), context.offset(), context.sourceRawKey(),
                        context.sourceRawValue()), new SerializationException("cannot read RequestLog"));

        assertThat(processing.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
        assertThat(processing.deadLetterQueueRecords()).hasSize(1);
        ProducerRecord<byte[], byte[]> letter = processing.deadLetterQueueRecords().get(0);
        assertSame(letter, ExceptionHandlerUtils.buildDeadLetterQueueRecord(DEAD_LETTERS, context.sourceRawKey(),
                context.sourceRawValue(), context, failure));
        // and one of Keymeter's: the record as the failing processor got it (ForwardedRecordFailureTest)
        assertThat(headers(letter).get(8)).isEqualTo(DeadLetterRecord.FAILED_RECORD
                + "={\"key\":\"key\",\"value\":\"value\",\"timestamp\":\"2025-12-02T03:00:00Z\"}");
        assertThat(reading.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        assertThat(header(reading.deadLetterQueueRecords().get(0), DeadLetterRecord.EXCEPTION))
                .isEqualTo(SerializationException.class.getName());
        assertThat(reading.deadLetterQueueRecords().get(0).headers().lastHeader(DeadLetterRecord.FAILED_RECORD))
                .as("nothing read, nothing more to describe").isNull();
    }

    @Test
    void eachFailureIsLoggedWithoutItsStackTraceAndAFloodOnlyOnce() {
        for (int offset = 0; offset < 1000; offset++) {
            handler.handleError(FailedRecord.at(3, offset), new Record<>("key", "value", 0L),
                    new IllegalStateException("x".repeat(5000)));
        }

        assertThat(logged.list).hasSize(1);
        ILoggingEvent line = logged.list.get(0);
        assertThat(line.getThrowableProxy()).isNull();
        assertThat(line.getFormattedMessage())
                .startsWith("Record keymeter.requests-3@0 (task 1_3, processor dedupe) sent to keymeter.dead-letters: "
                        + "java.lang.IllegalStateException: " + "x".repeat(DeadLetterHandler.LOGGED_MESSAGE_CHARS)
                        + "…. Its stack trace is in the __streams.errors.stacktrace header")
                .hasSizeLessThan(DeadLetterHandler.LOGGED_MESSAGE_CHARS + 300);
    }

    /**
     * A message quoting a plaintext key (a direct producer's): the log lines, the debug one with its stack trace too,
     * mask it as the letter does; they printed the message, and the exception itself, as they were.
     */
    @Test
    void aKeyInTheFailuresMessageIsMaskedInEveryLogLine() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        String secret = key.apiKey().substring(20, 52);
        ch.qos.logback.classic.Level level = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        try {
            handler.handleError(FailedRecord.at(5, 1), new Record<>("key", "value", 0L),
                    new IllegalStateException("refused " + key.apiKey()));
        } finally {
            logger.setLevel(level);
        }

        assertThat(logged.list).hasSize(2).allSatisfy(line -> {
            assertThat(line.getFormattedMessage()).doesNotContain(secret).contains("km_" + key.keyId() + "_***");
            assertThat(line.getThrowableProxy()).isNull();
        });
        assertThat(DeadLetterHandler.described(new IllegalStateException(key.apiKey())))
                .as("as health lists a punctuation's failure").doesNotContain(secret);
    }

    @Test
    void withoutADeadLetterTopicTheRecordIsOnlyCountedAndLogged() {
        handler.configure(Map.of());
        ProcessingExceptionHandler.Response response = handler.handleError(FailedRecord.at(0, 0),
                new Record<>("key", "value", 0L), new IllegalStateException("broken"));

        assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).isEmpty();
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
                .contains("sent to no dead-letter topic");
    }

    private static void assertSame(ProducerRecord<byte[], byte[]> ours, ProducerRecord<byte[], byte[]> kafkas) {
        assertThat(ours.topic()).isEqualTo(kafkas.topic());
        assertThat(ours.partition()).isEqualTo(kafkas.partition());
        assertThat(ours.timestamp()).isEqualTo(kafkas.timestamp());
        assertThat(ours.key()).isEqualTo(kafkas.key());
        assertThat(ours.value()).isEqualTo(kafkas.value());
        // two from the source, six saying why, as Kafka's; then Keymeter's own
        assertThat(headers(ours).subList(0, 8)).isEqualTo(headers(kafkas)).hasSize(8);
    }

    private static List<String> headers(ProducerRecord<byte[], byte[]> record) {
        return java.util.stream.StreamSupport.stream(record.headers().spliterator(), false)
                .map(header -> header.key() + "=" + (header.value() == null ? null
                        : new String(header.value(), StandardCharsets.UTF_8)))
                .toList();
    }
}
