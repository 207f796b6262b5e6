package io.keymeter.app.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.metering.MeteringSerdes;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A key's history must survive the broker's compaction for as long as requests of its time can arrive, or a late
 * billable request is judged by a later state: refused {@code unknown-key}.
 * <p>
 * Metering's own changelog of the history: an operator raises {@code keymeter.ingest.max-age} (here from 7 to the
 * default 35 days) and restarts. Kafka Streams gave the changelog its compaction lag when it created the topic, from
 * the old max-age, and never changes it; an instance that restores the history (a new one, or one that lost its
 * disk) found holes. Metering must give the existing changelog its lag at start, and start-up the request log the
 * retention of the new max-age (a week beyond it), or a segment of requests stamped weeks back could be deleted
 * before metering read it.
 * <p>
 * The public key-state topic: a metering that starts for the first time (roles run apart) or after a reset builds
 * its history from it, so it keeps every version as long as requests are kept, not just each key's latest.
 * <p>
 * The broker's cleaner uses record timestamps: a segment may be compacted once its newest record is older than the
 * lag. So the history written weeks ago is written here straight into the topic, with its old timestamps (a
 * transaction marker would carry today's), on a broker of its own whose cleaner runs every 100 ms. Another key's
 * history, older than any lag, is written first: once its older version is gone the cleaner has been through the
 * partition.
 */
@Timeout(240)
class KeyHistoryCompactionTest {

    private static final int PARTITIONS = 6;
    private static final String HISTORY = StreamsFactory.changelogTopic(MeteringConfiguration.APP_NAME,
            MeteringTopology.API_KEYS_STORE);

    private OwnKafka kafka;

    private final Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    private final ApiKeys.GeneratedKey key = ApiKeys.generate();
    private final ApiKeys.GeneratedKey ancient = ApiKeys.generate();
    private final ApiKeys.GeneratedKey fresh = ApiKeys.generate();

    @BeforeEach
    void start() throws Exception {
        kafka = OwnKafka.start("keymeter-history");
        kafka.admin().incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, ""), List.of(
                new AlterConfigOp(new ConfigEntry("log.cleaner.backoff.ms", "100"), AlterConfigOp.OpType.SET))))
                .all().get();
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void aRaisedMaxAgeReachesTheTopicsMadeForTheOldOneSoALostDiskStillBillsALateRequest() throws Exception {
        // the changelog as Kafka Streams created it under max-age P7D (history 7 days + 5 min skew + 1 day), with a
        // cleaner that acts at once: segments roll at every minute of record time, any dirty share is cleaned
        Map<String, String> oldLag = MeteringTopology.keyHistoryChangelog(Duration.ofDays(8).plusMinutes(5));
        kafka.admin().createTopics(List.of(new NewTopic(HISTORY, PARTITIONS, (short) 1).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, oldLag.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG),
                TopicConfig.SEGMENT_MS_CONFIG, "60000",
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01")),
                // and the request log as Keymeter made it then: max-age plus a week
                new NewTopic(Topics.REQUESTS.name(), PARTITIONS, (short) 1).configs(Map.of(
                        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(Duration.ofDays(14).toMillis()))))).all().get();

        startKeymeter("first-disk");
        // committed by the controller at start-up; the broker answering describeConfigs applies it a moment later
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(config(HISTORY, TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG))
                    .as("the lag for the default max-age P35D: history 36 days 5 min, plus a day")
                    .isEqualTo(Duration.ofDays(37).plusMinutes(5).toMillis());
            assertThat(config(Topics.REQUESTS.name(), TopicConfig.RETENTION_MS_CONFIG))
                    .as("requests stamped up to 35 days back are kept until metered: max-age plus a week")
                    .isEqualTo(Duration.ofDays(42).toMillis());
        });
        // it meters something, as the earlier deployment did: its group has committed offsets (or it is not started
        // again: LostOffsets)
        kafka.sendRequests(new RequestLog("before-the-restart", "unknownKeyId0000", key.secretHash(), "basemaps", "op", 1, null, null,
                now));
        await("metering committed its position").atMost(Duration.ofSeconds(30)).until(() -> !kafka.admin()
                .listConsumerGroupOffsets(StreamsFactory.applicationId(MeteringConfiguration.APP_NAME))
                .partitionsToOffsetAndMetadata().get().isEmpty());
        kafka.stopKeymeter();

        int partition = KafkaTopics.partitionOf(key.keyId(), PARTITIONS);
        writeHistory(HISTORY, partition, MeteringSerdes.KEY_STATE.serializer());
        awaitCompactionKeepingTheKeysVersions(HISTORY, partition);

        // a new instance, or this one after losing its disk: the history is restored from the changelog
        startKeymeter("second-disk");
        assertTheLateRequestIsBilledAndTheLaterOneRefused();
    }

    @Test
    void aFirstMeteringStartBuildsTheHistoryFromTheKeyStateTopicWhichKeepsEveryVersionForMaxAgeAndAWeek()
            throws Exception {
        // the key-state topic as an earlier Keymeter made it: compacted, with Kafka's lag of 0 (and the test's cleaner)
        kafka.admin().createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), PARTITIONS, (short) 1).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.SEGMENT_MS_CONFIG, "60000",
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01")))).all().get();
        // roles run apart: keys are issued and used for weeks before metering first starts (or after it is reset)
        kafka.startKeymeter("--keymeter.roles=ingest", "--keymeter.data-dir=" + kafka.dir().resolve("ingest"),
                "--keymeter.topics.partitions=" + PARTITIONS);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                config(Topics.API_KEYS.name(), TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG))
                .as("every key state kept as long as requests: max-age plus a week")
                .isEqualTo(Duration.ofDays(42).toMillis()));
        kafka.stopKeymeter();

        int partition = KafkaTopics.partitionOf(key.keyId(), PARTITIONS);
        writeHistory(Topics.API_KEYS.name(), partition, Topics.API_KEYS.valueSerde().serializer());
        awaitCompactionKeepingTheKeysVersions(Topics.API_KEYS.name(), partition);

        startKeymeter("metering");
        assertTheLateRequestIsBilledAndTheLaterOneRefused();
    }

    /**
     * The key's history (active 30 days ago, invalidated 20 days ago) as written weeks ago, after another key's older
     * than any lag and before a fresh one: each record in a segment of its own, its record time 10 or more days
     * from the last.
     */
    private void writeHistory(String topic, int partition, Serializer<ApiKeyState> serializer) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (ApiKeyState state : List.of(
                    state(ancient, KeyStatus.ACTIVE, now.minus(Duration.ofDays(80))),
                    state(ancient, KeyStatus.INVALIDATED, now.minus(Duration.ofDays(79))),
                    state(key, KeyStatus.ACTIVE, now.minus(Duration.ofDays(30))),
                    state(key, KeyStatus.INVALIDATED, now.minus(Duration.ofDays(20))),
                    state(fresh, KeyStatus.ACTIVE, now))) {
                producer.send(new ProducerRecord<>(topic, partition, state.updatedAt().toEpochMilli(),
                        state.keyId().getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, state))).get();
            }
        }
    }

    /** Once the other key's older version is gone, the cleaner has been through the partition: the key's both stay. */
    private void awaitCompactionKeepingTheKeysVersions(String topic, int partition) {
        await("the cleaner has compacted the partition").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> versions(topic, ancient.keyId(), partition) == 1);
        assertThat(versions(topic, key.keyId(), partition)).as("both versions of the key kept").isEqualTo(2);
    }

    private void assertTheLateRequestIsBilledAndTheLaterOneRefused() throws Exception {
        kafka.sendRequests(request("made-while-active", now.minus(Duration.ofDays(25))),
                request("made-after-invalidation", now.minus(Duration.ofDays(15))));
        LocalDate day = LocalDate.ofInstant(now.minus(Duration.ofDays(25)), ZoneOffset.UTC);
        await("the late request billed, the later one refused").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    assertThat(TopicReader.readAll(kafka.bootstrapServers(), Topics.REJECTIONS).stream()
                            .map(ConsumerRecord::value).filter(r -> r.keyId().equals(key.keyId())))
                            .extracting(Rejection::requestId, Rejection::reason)
                            .containsExactly(tuple("made-after-invalidation", RejectionReason.INVALIDATED));
                    assertThat(TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE_DAILY).stream()
                            .map(ConsumerRecord::value).filter(u -> u.credentialId().equals("history-credential")))
                            .extracting(UsageDaily::date, UsageDaily::requests, UsageDaily::units)
                            .containsExactly(tuple(day, 1L, 3L));
                });
    }

    private void startKeymeter(String disk) {
        kafka.startKeymeter("--keymeter.roles=metering", "--keymeter.data-dir=" + kafka.dir().resolve(disk),
                "--keymeter.topics.partitions=" + PARTITIONS);
        StreamsApp metering = kafka.streams(MeteringConfiguration.APP_NAME);
        await("metering running").atMost(Duration.ofSeconds(90))
                .until(() -> metering.state() == KafkaStreams.State.RUNNING);
    }

    private long config(String topic, String name) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return Long.parseLong(kafka.admin().describeConfigs(List.of(resource)).all().get().get(resource).get(name).value());
    }

    private long versions(String topic, String keyId, int partition) {
        return TopicReader.readRaw(kafka.bootstrapServers(), topic).stream()
                .filter(r -> r.partition() == partition && keyId.equals(new String(r.key(), StandardCharsets.UTF_8)))
                .count();
    }

    private ApiKeyState state(ApiKeys.GeneratedKey generated, KeyStatus status, Instant at) {
        return new ApiKeyState(generated.keyId(), "history-credential", "history", 1, status,
                now.plus(Duration.ofDays(30)), generated.secretHash(), List.of("premium:user:basemaps"), List.of(),
                List.of(), at);
    }

    private RequestLog request(String requestId, Instant at) {
        return new RequestLog(requestId, key.keyId(), key.secretHash(), "basemaps", "op", 3, null, null, at);
    }
}
