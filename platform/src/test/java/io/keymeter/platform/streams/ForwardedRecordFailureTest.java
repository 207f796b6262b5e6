package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.Json;
import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A record a processor forwards while Kafka Streams processes another one, or from a punctuation, that fails in a
 * processor after it (as metering's judge releases a request it held): Kafka Streams gives the handler the source
 * record of the moment, another record or none, so its dead letter carried the wrong record or nothing of the one that
 * failed. It now also carries the failed record as the failing processor got it.
 */
class ForwardedRecordFailureTest {

    @TempDir
    Path dir;

    /** Holds each record until the next one comes, or until the wall-clock punctuation; then forwards it. */
    static final class Holder implements Processor<String, String, String, String> {

        private final List<Record<String, String>> held = new ArrayList<>();
        private ProcessorContext<String, String> context;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, now -> release());
        }

        @Override
        public void process(Record<String, String> record) {
            release();
            held.add(record);
        }

        private void release() {
            held.forEach(context::forward);
            held.clear();
        }
    }

    /** Fails on a value starting with "bad". */
    static final class Picky implements Processor<String, String, String, String> {

        private ProcessorContext<String, String> context;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, String> record) {
            if (record.value().startsWith("bad")) {
                throw new IllegalArgumentException("cannot take " + record.key());
            }
            context.forward(record);
        }
    }

    @Test
    void aHeldRecordFailingAfterItsReleaseIsTheOneItsDeadLetterDescribes() {
        try (TopologyTestDriver driver = driver()) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(),
                    new StringSerializer());
            TestOutputTopic<byte[], byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS,
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            TestOutputTopic<byte[], byte[]> out = driver.createOutputTopic("out", new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            Instant t = Instant.parse("2026-12-07T06:00:00Z");

            in.pipeInput("held-1", "bad request 1", t);
            in.pipeInput("next-2", "good request 2", t.plusSeconds(1)); // releases held-1, which fails
            in.pipeInput("held-3", "bad request 3", t.plusSeconds(2));
            driver.advanceWallClockTime(Duration.ofSeconds(2)); // the punctuation releases held-3, which fails

            assertThat(out.readKeyValuesToList()).extracting(kv -> new String(kv.key, StandardCharsets.UTF_8))
                    .containsExactly("next-2");
            List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
            assertThat(letters).hasSize(2);
            // the source of the moment: the next record, then none
            assertThat(letters.get(0).key()).asString(StandardCharsets.UTF_8).isEqualTo("next-2");
            assertThat(letters.get(1).key()).isNull();
            assertThat(failed(letters.get(0))).isEqualTo(Map.of("key", "held-1", "value", "bad request 1",
                    "timestamp", t.toString()));
            assertThat(failed(letters.get(1))).isEqualTo(Map.of("key", "held-3", "value", "bad request 3",
                    "timestamp", t.plusSeconds(2).toString()));
            assertThat(text(letters.get(0), DeadLetterRecord.MESSAGE)).isEqualTo("cannot take held-1");
        }
    }

    private TopologyTestDriver driver() {
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null, null, null, null, null,
                null, null);
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, "forwarded-failure-test", Map.of());
        Topology topology = new Topology();
        topology.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), "in")
                .addProcessor("holder", Holder::new, "in")
                .addProcessor("picky", Picky::new, "holder")
                .addSink("out", "out", Serdes.String().serializer(), Serdes.String().serializer(), "picky");
        return new TopologyTestDriver(topology, config, Instant.parse("2026-12-07T06:00:00Z"));
    }

    /** The failed record the letter describes: its key, value and time, as text. */
    private static Map<String, String> failed(TestRecord<byte[], byte[]> letter) {
        JsonNode record = Json.mapper().readTree(text(letter, DeadLetterRecord.FAILED_RECORD));
        return Map.of("key", record.path("key").asString(), "value", record.path("value").asString(),
                "timestamp", record.path("timestamp").asString());
    }

    private static String text(TestRecord<byte[], byte[]> letter, String name) {
        Header header = letter.headers().lastHeader(name);
        assertThat(header).as(name).isNotNull();
        return new String(header.value(), StandardCharsets.UTF_8);
    }
}
