package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic a running topology reads changes under it: partitions added (Kafka Streams then refuses the topology's
 * internal topics, laid out for the old count, on every thread it starts) or the topic deleted (every thread fails
 * its rebalance). The application must shut down and say why, not replace its threads for ever.
 */
@Timeout(180)
class TopicChangeTest {

    @TempDir
    static Path dir;
    private static OwnBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = OwnBroker.start(dir, List.of(new NewTopic("layout-in", 2, (short) 1),
                new NewTopic("gone-in", 2, (short) 1), new NewTopic("gone-out", 2, (short) 1)));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void anApplicationWhoseSourceGainsPartitionsShutsDownAndSaysWhy() throws Exception {
        StreamsApp app = new StreamsApp("layout", countsByKey(), config("layout"), null);
        app.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> app.state() == KafkaStreams.State.RUNNING);
            assertThat(app.stoppedBecause()).isEmpty();

            kafka.admin().createPartitions(Map.of("layout-in", NewPartitions.increaseTo(4))).all().get();

            // replacing the thread instead would keep it REBALANCING for ever
            await().atMost(Duration.ofSeconds(60)).until(() -> app.state() == KafkaStreams.State.ERROR);
            assertThat(app.stoppedBecause()).hasValueSatisfying(reason -> assertThat(reason)
                    .startsWith("layout stopped: the partition count of a topic it reads changed")
                    .contains("keymeter-layout-counts-changelog has invalid partitions: expected: 4; actual: 2")
                    .contains("Partition counts are fixed"));
        } finally {
            app.stop();
        }
    }

    @Test
    void anApplicationWhoseSourceIsDeletedShutsDownSaysWhyAndRunsAgainOnceItIsBack() throws Exception {
        Properties config = config("gone");
        StreamsApp app = new StreamsApp("gone", copies(), config, null);
        app.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> app.state() == KafkaStreams.State.RUNNING);

            kafka.admin().deleteTopics(List.of("gone-in")).all().get();

            await().atMost(Duration.ofSeconds(60)).until(() -> app.state() == KafkaStreams.State.ERROR);
            assertThat(app.stoppedBecause()).hasValueSatisfying(reason -> assertThat(reason)
                    .startsWith("gone stopped: a topic it reads no longer exists")
                    .contains("restart it when the topic is meant to exist again"));
            // its static members leave: one that stayed would get its last assignment, error code included, again
            await().atMost(Duration.ofSeconds(30)).until(() -> kafka.admin().describeConsumerGroups(
                    List.of("keymeter-gone")).all().get().get("keymeter-gone").members().isEmpty());
        } finally {
            app.stop();
        }

        kafka.admin().createTopics(List.of(new NewTopic("gone-in", 2, (short) 1))).all().get();
        StreamsApp restarted = new StreamsApp("gone", copies(), config, null);
        restarted.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> restarted.state() == KafkaStreams.State.RUNNING);
            assertThat(restarted.stoppedBecause()).isEmpty();
        } finally {
            restarted.stop();
        }
    }

    @Test
    void onlyTheseFailuresStopTheApplication() {
        StreamsException refusal = new StreamsException("Existing internal topic x-changelog has invalid partitions: "
                + "expected: 4; actual: 2. Use 'org.apache.kafka.tools.StreamsResetter' tool to clean up.");
        assertThat(TopicChange.stopReason("x", new StreamsException("wrapped", refusal)))
                .hasValueSatisfying(reason -> assertThat(reason).contains(refusal.getMessage()));
        assertThat(TopicChange.stopReason("x", new MissingSourceTopicException("Some source topics were missing")))
                .hasValueSatisfying(reason -> assertThat(reason).startsWith("x stopped: a topic it reads no longer"));
        assertThat(TopicChange.stopReason("x", new StreamsException("Could not create topics after 5 retries")))
                .isEmpty();
        assertThat(TopicChange.stopReason("x", new IllegalStateException("has invalid partitions"))).isEmpty();
    }

    private static Topology copies() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("gone-in", Consumed.with(Serdes.String(), Serdes.String())).to("gone-out");
        return builder.build();
    }

    private static Topology countsByKey() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("layout-in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .count(Materialized.as("counts"));
        return builder.build();
    }

    private static Properties config(String name) {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null, null,
                null, null, null, null);
        // the production settings: the group sees the new count at its next metadata refresh (Kafka's default 5 min)
        return StreamsFactory.config(Map.of(), properties, name, Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }
}
