package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Existing changelogs get the configs their stores declare; topics Kafka Streams has yet to create are left to it. */
@Timeout(120)
class ChangelogConfigsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String NINE_DAYS = String.valueOf(Duration.ofDays(9).toMillis());
    private static final String THIRTY_SEVEN_DAYS = String.valueOf(Duration.ofDays(37).toMillis());

    @TempDir
    static Path dir;
    private static OwnBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = OwnBroker.start(dir, List.of(
                new NewTopic("history-changelog", 2, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, NINE_DAYS,
                        TopicConfig.SEGMENT_MS_CONFIG, "60000")),
                new NewTopic("current-changelog", 2, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, THIRTY_SEVEN_DAYS))));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void anExistingChangelogGetsTheDeclaredValueAndKeepsItsOtherConfigs() throws Exception {
        List<String> changed = ChangelogConfigs.apply(kafka.admin(),
                Map.of("history-changelog", Map.of(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, THIRTY_SEVEN_DAYS)),
                Set.of("history-changelog"), TIMEOUT);

        assertThat(changed).containsExactly(
                "history-changelog min.compaction.lag.ms " + NINE_DAYS + " -> " + THIRTY_SEVEN_DAYS);
        // the controller has committed the change; the broker answering describeConfigs applies it a moment later
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Config config = config("history-changelog");
            assertThat(config.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG).value()).isEqualTo(THIRTY_SEVEN_DAYS);
            assertThat(config.get(TopicConfig.SEGMENT_MS_CONFIG).value()).isEqualTo("60000");
            assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
                    .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        });
    }

    @Test
    void aChangelogThatAlreadyHasItsConfigsIsNotChanged() throws Exception {
        List<String> changed = ChangelogConfigs.apply(kafka.admin(),
                Map.of("current-changelog", Map.of(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, THIRTY_SEVEN_DAYS)),
                Set.of("current-changelog"), TIMEOUT);

        assertThat(changed).isEmpty();
        assertThat(config("current-changelog").get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG).value())
                .isEqualTo(THIRTY_SEVEN_DAYS);
    }

    @Test
    void aChangelogNotCreatedYetIsLeftToKafkaStreams() throws Exception {
        List<String> changed = ChangelogConfigs.apply(kafka.admin(),
                Map.of("new-changelog", Map.of(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, THIRTY_SEVEN_DAYS)),
                Set.of("history-changelog", "current-changelog"), TIMEOUT);

        assertThat(changed).isEmpty();
        assertThat(kafka.admin().listTopics().names().get()).doesNotContain("new-changelog");
    }

    private static Config config(String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return kafka.admin().describeConfigs(List.of(resource)).all().get().get(resource);
    }
}
