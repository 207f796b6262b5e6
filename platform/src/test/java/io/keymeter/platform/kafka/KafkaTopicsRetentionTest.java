package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topics that exist before start-up keep the retention they were made with: Keymeter raises a shorter one to what it
 * would create now (max-age plus a week; the event log for ever; the key-state topic's compaction lag; no size
 * limit) and leaves a longer one alone.
 */
@Timeout(120)
class KafkaTopicsRetentionTest {

    private static final long DAY = Duration.ofDays(1).toMillis();
    private static final long MIB = 1024 * 1024;

    @TempDir
    static Path dir;
    private static EmbeddedKafkaBroker broker;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new EmbeddedKafkaBroker(dir, 0).start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
        admin.createTopics(List.of(
                // as Keymeter made them with max-age P7D: a week of requests plus a week
                topic(Topics.REQUESTS.name(), 14 * DAY),
                // made by hand, with Kafka's default week and a size limit
                new NewTopic(Topics.CREDENTIAL_EVENTS.name(), 6, (short) 1).configs(Map.of(
                        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(7 * DAY),
                        TopicConfig.RETENTION_BYTES_CONFIG, String.valueOf(MIB))),
                // longer than needed: the operator's choice; but a size limit deletes by size whatever the age
                new NewTopic(Topics.REJECTIONS.name(), 6, (short) 1).configs(Map.of(
                        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(400 * DAY),
                        TopicConfig.RETENTION_BYTES_CONFIG, String.valueOf(MIB))),
                // on a cluster whose operator bounded record times: a day back, a minute ahead
                new NewTopic(Topics.USAGE_DAILY.name(), 6, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, String.valueOf(DAY),
                        TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, "60000")),
                // compacted as an earlier Keymeter made it: any version may go at once
                new NewTopic(Topics.API_KEYS.name(), 6, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))).all().get();
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.stop();
    }

    @Test
    void aShorterRetentionIsRaisedToWhatKeymeterCreatesAndALongerOneIsKept() throws Exception {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null,
                new KeymeterProperties.Ingest(null, Duration.ofDays(35)), null, null, null, null);
        KafkaTopics.createMissing(admin, properties);

        List<String> changes = KafkaTopics.raiseRetention(admin, properties);

        assertThat(changes).containsExactlyInAnyOrder(
                Topics.REQUESTS.name() + " retention.ms " + 14 * DAY + " -> " + 42 * DAY,
                Topics.CREDENTIAL_EVENTS.name() + " retention.ms " + 7 * DAY + " -> -1",
                Topics.CREDENTIAL_EVENTS.name() + " retention.bytes " + MIB + " -> -1",
                Topics.REJECTIONS.name() + " retention.bytes " + MIB + " -> -1",
                Topics.API_KEYS.name() + " min.compaction.lag.ms 0 -> " + 42 * DAY);
        assertThat(KafkaTopics.raiseTimestampBounds(admin, Topics.ALL.stream().map(t -> t.name()).toList(),
                Duration.ofSeconds(30))).containsExactlyInAnyOrder(
                Topics.USAGE_DAILY.name() + " message.timestamp.after.max.ms 60000 -> 3600000",
                Topics.USAGE_DAILY.name() + " message.timestamp.before.max.ms " + DAY + " -> " + Long.MAX_VALUE);
        // the controller has committed the changes; the broker answering describeConfigs applies them a moment later
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(retention(Topics.REQUESTS.name())).isEqualTo(42 * DAY);
            assertThat(retention(Topics.CREDENTIAL_EVENTS.name())).isEqualTo(-1);
            assertThat(retention(Topics.REJECTIONS.name())).isEqualTo(400 * DAY);
            assertThat(config(Topics.CREDENTIAL_EVENTS.name(), TopicConfig.RETENTION_BYTES_CONFIG)).isEqualTo(-1);
            assertThat(config(Topics.REJECTIONS.name(), TopicConfig.RETENTION_BYTES_CONFIG)).isEqualTo(-1);
            assertThat(config(Topics.API_KEYS.name(), TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG)).isEqualTo(42 * DAY);
        });
        // a daily total metering writes with its request's time, three days back, or 50 minutes ahead, is taken now
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(write(Topics.USAGE_DAILY.name(), System.currentTimeMillis() - 3 * DAY)).isNull();
            assertThat(write(Topics.USAGE_DAILY.name(), System.currentTimeMillis() + Duration.ofMinutes(50).toMillis()))
                    .isNull();
        });
        // created now, with it: nothing to raise
        assertThat(retention(Topics.SECURITY_ALERTS.name())).isEqualTo(42 * DAY);
        assertThat(KafkaTopics.raiseRetention(admin, properties)).as("a second start changes nothing").isEmpty();
    }

    /**
     * A narrower bound refused what metering writes: the stream thread failed on it until metering stopped.
     */
    @Test
    void aRecordTimeBoundNarrowerThanKeymeterWritesIsWidened() throws Exception {
        String topic = "keymeter-metering-some-store-changelog";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of(
                TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, String.valueOf(DAY))))).all().get();
        assertThat(write(topic, System.currentTimeMillis() - 3 * DAY)).as("Kafka refuses it before")
                .isInstanceOf(InvalidTimestampException.class);

        assertThat(KafkaTopics.raiseTimestampBounds(admin, List.of(topic), Duration.ofSeconds(30)))
                .containsExactly(topic + " message.timestamp.before.max.ms " + DAY + " -> " + Long.MAX_VALUE);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(write(topic, System.currentTimeMillis() - 3 * DAY)).isNull());
        assertThat(KafkaTopics.raiseTimestampBounds(admin, List.of(topic), Duration.ofSeconds(30))).isEmpty();
    }

    /** Null when the broker took a record stamped {@code timestamp}, else why it did not. */
    private static Throwable write(String topic, long timestamp) throws InterruptedException {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                // long enough for a loaded machine: a refusal checked once must not be a timeout instead
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 25_000),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, null, timestamp, "k", "v")).get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private static NewTopic topic(String name, long retentionMs) {
        return new NewTopic(name, 6, (short) 1).configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(retentionMs)));
    }

    private static long retention(String topic) throws Exception {
        return config(topic, TopicConfig.RETENTION_MS_CONFIG);
    }

    private static long config(String topic, String name) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return Long.parseLong(admin.describeConfigs(List.of(resource)).all().get().get(resource).get(name).value());
    }
}
