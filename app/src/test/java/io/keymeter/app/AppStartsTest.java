package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.events.Json;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.Health;
import io.keymeter.testsupport.SharedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import tools.jackson.databind.JsonNode;

@KeymeterIntegrationTest
class AppStartsTest {

    @Autowired
    TestRestTemplate http;

    @Test
    void healthIsUpOnceKafkaAndEveryTopologyRun() {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(Health.overallStatus(http.getForObject("/actuator/health", String.class))).isEqualTo("UP"));
    }

    /** The disk health watches is the one Keymeter writes to: it watched the working directory. */
    @Test
    void diskSpaceWatchesTheDataDir(@Autowired KeymeterProperties properties) {
        JsonNode disk = Json.mapper().readTree(http.getForObject("/actuator/health", String.class))
                .path("components").path("diskSpace").path("details");

        assertThat(Path.of(disk.path("path").asString()).toAbsolutePath().normalize())
                .isEqualTo(properties.dataDir().toAbsolutePath().normalize());
        assertThat(disk.path("exists").asBoolean()).isTrue();
    }

    @Test
    void readinessForALoadBalancerNamesWhatTheCallsNeedAndNotTheTopologiesState() {
        JsonNode readiness = await().atMost(Duration.ofSeconds(60)).until(
                () -> Json.mapper().readTree(http.getForObject("/actuator/health/readiness", String.class)),
                json -> "UP".equals(json.path("status").asString()));

        // a topology rebalancing (an instance of its role started or stopped) takes no instance out of the pool
        assertThat(readiness.path("components").propertyNames())
                .containsExactlyInAnyOrder("readinessState", "verify", "credentialChanges");
    }

    @Test
    void everyPublicTopicExistsWithItsCleanupPolicyAndPartitionCount() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            List<String> names = Topics.PUBLIC.stream().map(Topic::name).toList();
            Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
            Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get();

            for (Topic<String, ?> topic : Topics.PUBLIC) {
                assertThat(described.get(topic.name()).partitions()).as(topic.name()).hasSize(6);
                assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()))
                        .get("cleanup.policy").value()).as(topic.name()).isEqualTo(topic.cleanupPolicy());
            }
            assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, Topics.CREDENTIAL_EVENTS.name()))
                    .get("retention.ms").value()).isEqualTo("-1");
            // requests carry their own time, up to max-age (35 days) old: retention must outlast that
            assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, Topics.REQUESTS.name()))
                    .get("retention.ms").value()).isEqualTo(String.valueOf(Duration.ofDays(42).toMillis()));
        }
    }

    @Test
    void theFormatLocaleIsPinnedToEnUsWhenTheApplicationClassLoads() {
        // the host's locale, as the JVM started with it: on a host already en_US this could not fail, so it does not
        // run there (FormatLocaleTest checks the pin itself from ar-EG); this machine gives Java the plain "en"
        Locale host = new Locale(System.getProperty("user.language", ""), System.getProperty("user.country", ""));
        org.junit.jupiter.api.Assumptions.assumeFalse(host.equals(Locale.US), "the host's own locale is en_US");
        assertThat(Locale.getDefault(Locale.Category.FORMAT)).isEqualTo(Locale.US);
    }

    @Test
    void theJoinBufferChangelogRollsEveryMinuteAndKeepsTombstonesTenMinutes() throws Exception {
        assertCompactedChangelog(MeteringTopology.JOIN_BUFFER_STORE, Duration.ofMinutes(1), Duration.ofMinutes(10));
    }

    @Test
    void theDedupeChangelogRollsAndKeepsTombstonesAnHourAtTheDefaultWindowOfADay() throws Exception {
        assertCompactedChangelog(MeteringTopology.DEDUPE_STORE, Duration.ofHours(1), Duration.ofHours(1));
    }

    @Test
    void theRejectionCountsChangelogRollsAndKeepsTombstonesADay() throws Exception {
        assertCompactedChangelog(MeteringTopology.REJECTION_COUNTS_STORE, Duration.ofDays(1), Duration.ofDays(1));
    }

    @Test
    void theKeyHistoryChangelogCompactsNoVersionYoungerThanTheHistoryAndADay() throws Exception {
        // max-age 35 days + max-future-skew 5 minutes + 1 day of history, and the day Kafka Streams adds
        assertThat(changelogConfig(MeteringTopology.API_KEYS_STORE).get("min.compaction.lag.ms").value())
                .isEqualTo(String.valueOf(Duration.ofDays(37).plusMinutes(5).toMillis()));
    }

    private static void assertCompactedChangelog(String store, Duration segment, Duration tombstones) throws Exception {
        Config config = changelogConfig(store);
        assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(config.get("segment.ms").value()).isEqualTo(String.valueOf(segment.toMillis()));
        assertThat(config.get("delete.retention.ms").value()).isEqualTo(String.valueOf(tombstones.toMillis()));
    }

    /** A metering store's changelog, as the broker has it (Kafka Streams makes it when metering joins its group). */
    private static Config changelogConfig(String store) throws Exception {
        String changelog = StreamsFactory.changelogTopic(MeteringConfiguration.APP_NAME, store);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.listTopics().names().get().contains(changelog));
            return admin.describeConfigs(List.of(resource)).all().get().get(resource);
        }
    }

    @Test
    void prometheusExposesKafkaClientMetrics() {
        String scrape = http.getForObject("/actuator/prometheus", String.class);
        assertThat(scrape).contains("jvm_memory_used_bytes");
        assertThat(scrape.lines().filter(l -> l.startsWith("kafka_")).collect(Collectors.toList())).isNotEmpty();
    }
}
