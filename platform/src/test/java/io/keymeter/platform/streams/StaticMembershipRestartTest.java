package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Static membership on a real broker: an instance that died without leaving its group is replaced at once by its
 * restart, not after the session timeout; a clean stop leaves the group; a failed stream thread's member is removed.
 */
@Timeout(180)
class StaticMembershipRestartTest {

    /** Far longer than any wait below: a restart that had to wait for the dead member could not pass. */
    private static final int SESSION_TIMEOUT_MS = 120_000;

    @TempDir
    static Path dir;
    private static OwnBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = OwnBroker.start(dir, List.of(new NewTopic("static-in", 2, (short) 1),
                new NewTopic("static-out", 2, (short) 1), new NewTopic("static-fail-in", 2, (short) 1),
                new NewTopic("static-fail-out", 2, (short) 1)));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void aRestartTakesTheDeadMembersPlaceAtOnceAndACleanStopLeavesTheGroup() throws Exception {
        Properties config = config("static-test");
        String groupInstance = config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-1";

        StreamsApp first = new StreamsApp("static-test", topology(), config, null);
        first.start();
        awaitRunning(first, Duration.ofSeconds(60));
        // a crash, as the group sees it: a static member's plain close sends no LeaveGroup
        first.kafkaStreams().close(Duration.ofSeconds(30));
        assertThat(members("keymeter-static-test")).extracting(m -> m.groupInstanceId().orElse(null))
                .containsExactly(groupInstance);

        StreamsApp restarted = new StreamsApp("static-test", topology(), config, null);
        restarted.start();
        awaitRunning(restarted, Duration.ofSeconds(45));
        assertThat(members("keymeter-static-test")).extracting(m -> m.groupInstanceId().orElse(null))
                .containsExactly(groupInstance);

        restarted.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> members("keymeter-static-test").isEmpty());
    }

    @Test
    void aFailedStreamThreadsMemberIsRemovedSoItsReplacementGetsThePartitionsAtOnce() throws Exception {
        Properties config = config("static-fail");
        StreamsApp app = new StreamsApp("static-fail", failingOnce(), config, null);
        app.start();
        awaitRunning(app, Duration.ofSeconds(60));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("static-fail-in", "k", "boom")).get();
            // the thread dies on "boom" and is replaced by StreamThread-2, a new static member; without the removal,
            // the dead StreamThread-1 member would keep the partitions for the whole 120 s session timeout
            await().atMost(Duration.ofSeconds(45)).until(() -> members("keymeter-static-fail").stream()
                    .map(m -> m.groupInstanceId().orElse("")).toList()
                    .equals(List.of(config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-2")));
            producer.send(new ProducerRecord<>("static-fail-in", "k", "after")).get();
            assertThat(readValues("static-fail-out", "after")).contains("boom", "after");
        } finally {
            app.stop();
        }
        assertThat(failures).hasValue(1);
    }

    private static final AtomicInteger failures = new AtomicInteger();

    /** Committed values of a topic, read until {@code last} is among them. */
    private static List<String> readValues(String topic, String last) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> values.add(record.value()));
                return values.contains(last);
            });
        }
        return values;
    }

    /** Fails its thread once, on "boom", with an Error: processing handlers catch exceptions, not errors. */
    private static Topology failingOnce() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("static-fail-in", Consumed.with(Serdes.String(), Serdes.String()))
                .peek((key, value) -> {
                    if (value.equals("boom") && failures.compareAndSet(0, 1)) {
                        throw new AssertionError("a stream thread failure, on purpose");
                    }
                })
                .to("static-fail-out", Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    private static Properties config(String name) {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null, null,
                null, null, null, null);
        Map<String, Object> overrides = new HashMap<>();
        overrides.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        overrides.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
        return StreamsFactory.config(Map.of(), properties, name, overrides);
    }

    private static Topology topology() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("static-in", Consumed.with(Serdes.String(), Serdes.String()))
                .to("static-out", Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    private static void awaitRunning(StreamsApp app, Duration within) {
        await().atMost(within).until(() -> app.state() == KafkaStreams.State.RUNNING);
    }

    private static Collection<MemberDescription> members(String group) throws Exception {
        return kafka.admin().describeConsumerGroups(List.of(group)).all().get().get(group).members();
    }
}
