package io.keymeter.platform.streams;

import static io.keymeter.platform.streams.FailedRecord.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * A punctuator that throws, with the production Streams settings: Kafka Streams hands the failure to the processing
 * handler with no source record (no topic). The handler used to throw a NullPointerException on that, which Kafka
 * takes for a fatal error: the stream thread failed, was replaced, and met the same punctuation again, for ever.
 */
class PunctuationFailureTest {

    @TempDir
    Path dir;

    private final AtomicInteger punctuations = new AtomicInteger();

    /** Punctuates every second on wall-clock time; each punctuation fails. */
    final class FailingPunctuator implements Processor<String, String, String, String> {

        @Override
        public void init(ProcessorContext<String, String> context) {
            context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, now -> {
                punctuations.incrementAndGet();
                throw new IllegalStateException("sweep failed at " + now);
            });
        }

        @Override
        public void process(Record<String, String> record) {
        }
    }

    @Test
    void aFailingPunctuationIsDeadLetteredAndProcessingGoesOn() {
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null, null, null, null, null,
                null, null);
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, "punctuation-test", Map.of());
        Topology topology = new Topology();
        topology.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), "in")
                .addProcessor("sweeper", FailingPunctuator::new, "in");

        PunctuationFailures failures = new PunctuationFailures();
        config.put(PunctuationFailures.CONFIG, failures); // as StreamsApp does

        try (TopologyTestDriver driver = new TopologyTestDriver(topology, config, Instant.parse("2026-12-03T00:00:00Z"))) {
            TestOutputTopic<byte[], byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS,
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());

            // without the handler's fix the first of these threw a StreamsException (the thread's death in production)
            driver.advanceWallClockTime(Duration.ofSeconds(1));
            driver.advanceWallClockTime(Duration.ofSeconds(1));

            assertThat(punctuations).hasValue(2);
            List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
            assertThat(letters).hasSize(2);
            var letter = new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.DEAD_LETTERS, null,
                    letters.get(0).key(), letters.get(0).value(), letters.get(0).headers());
            assertThat(header(letter, DeadLetterRecord.EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
            assertThat(header(letter, DeadLetterRecord.MESSAGE)).startsWith("sweep failed at ");
            assertThat(letter.headers().lastHeader(DeadLetterRecord.TOPIC).value()).isNull();
            assertThat(header(letter, DeadLetterRecord.PARTITION)).isEqualTo("-1");

            // noted for health, a line per processor and task, for 10 minutes after the last failure
            long now = System.currentTimeMillis();
            assertThat(failures.recent(now)).singleElement().asString()
                    .startsWith("processor sweeper (task 0_0): 2 failed since ")
                    .contains("(java.lang.IllegalStateException: sweep failed at ");
            assertThat(failures.recent(now + PunctuationFailures.RECENT.toMillis() + 1000)).isEmpty();
        }
    }

    @Test
    @Timeout(120)
    void healthShowsAPunctuationThatKeepsFailingAndStaysUp() throws Exception {
        try (OwnBroker kafka = OwnBroker.start(dir.resolve("kafka"), List.of(new NewTopic("in", 1, (short) 1),
                new NewTopic(Topics.DEAD_LETTERS, 1, (short) 1)))) {
            KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null,
                    null, null, null, null, null);
            Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers()), properties, "punctuation-health", Map.of());
            Topology topology = new Topology();
            topology.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), "in")
                    .addProcessor("sweeper", FailingPunctuator::new, "in");
            StreamsApp app = new StreamsApp("punctuation-health", topology, config, null);
            StreamsHealthIndicator indicator = new StreamsHealthIndicator(List.of(app));
            app.start();
            try {
                // before, only the dead letters and a sampled log line said so: health had nothing
                Health health = await().atMost(Duration.ofSeconds(60)).until(indicator::health,
                        h -> h.getDetails().containsKey("punctuation-healthFailingPunctuations"));
                assertThat(health.getStatus()).isEqualTo(Status.UP);
                assertThat(health.getDetails().get("punctuation-healthFailingPunctuations")).asString()
                        .contains("processor sweeper (task 0_0): ", "sweep failed at ");
                assertThat(app.state()).isEqualTo(KafkaStreams.State.RUNNING);
            } finally {
                app.stop();
            }
        }
    }
}
