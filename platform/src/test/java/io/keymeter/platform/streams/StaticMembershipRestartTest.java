package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
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
 * restart, not after the session timeout; a clean stop leaves the group.
 */
@Timeout(180)
class StaticMembershipRestartTest {

    /** Far longer than any wait below: a restart that had to wait for the dead member could not pass. */
    private static final int SESSION_TIMEOUT_MS = 120_000;

    @TempDir
    static Path dir;
    private static EmbeddedKafkaBroker broker;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
        admin.createTopics(List.of(new NewTopic("static-in", 2, (short) 1), new NewTopic("static-out", 2, (short) 1)))
                .all().get();
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    @Test
    void aRestartTakesTheDeadMembersPlaceAtOnceAndACleanStopLeavesTheGroup() throws Exception {
        Properties config = config();
        String groupInstance = config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-1";

        StreamsApp first = new StreamsApp("static-test", topology(), config, null);
        first.start();
        awaitRunning(first, Duration.ofSeconds(60));
        // a crash, as the group sees it: a static member's plain close sends no LeaveGroup
        first.kafkaStreams().close(Duration.ofSeconds(30));
        assertThat(members()).extracting(m -> m.groupInstanceId().orElse(null)).containsExactly(groupInstance);

        StreamsApp restarted = new StreamsApp("static-test", topology(), config, null);
        restarted.start();
        awaitRunning(restarted, Duration.ofSeconds(45));
        assertThat(members()).extracting(m -> m.groupInstanceId().orElse(null)).containsExactly(groupInstance);

        restarted.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> members().isEmpty());
    }

    private static Properties config() {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null, null,
                null, null, null, null);
        Map<String, Object> overrides = new HashMap<>();
        overrides.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        overrides.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
        return StreamsFactory.config(Map.of(), properties, "static-test", overrides);
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

    private static Collection<MemberDescription> members() throws Exception {
        return admin.describeConsumerGroups(List.of("keymeter-static-test")).all().get()
                .get("keymeter-static-test").members();
    }
}
