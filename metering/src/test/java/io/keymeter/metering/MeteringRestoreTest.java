package io.keymeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.KeyFixtures.TestKey;
import io.keymeter.metering.aggregation.RejectionCounter;
import io.keymeter.metering.enforcement.Deduplicator;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A metering instance restarted on its state directory, and one that lost its disk (or a new one taking over its
 * partitions): everything metering has decided must still be there, kept or restored from the changelogs, or the
 * next requests are billed wrongly. TopologyTestDriver cannot show this (closing it deletes its state), so the
 * production topology and configuration run on the shared broker, are stopped, and a second instance continues on
 * the same state directory or an empty one. Each store is checked by a request whose
 * outcome depends on it: the key's history (a late request from before the invalidation is still accepted, and
 * one from before the key's removal, a tombstone, is still refused as invalidated, not unknown), the
 * dedupe (a resend is still dropped), the usage totals (they go on, not start again), the rejection counts and the
 * alert state (no second alert within the hour). The second instance also runs with the dedupe window raised, as an
 * operator may change it between restarts: the dedupe keeps the generation length its store was written with.
 */
@Timeout(180)
class MeteringRestoreTest {

    @TempDir
    Path firstDisk;

    @TempDir
    Path secondDisk;

    private final String account = "restore-" + UUID.randomUUID().toString().substring(0, 8);
    private final TestKey key = TestKey.create(account, account + "-cred", 1);
    private final List<KafkaStreams> started = new ArrayList<>();
    // on the hour, so that every request below falls in one UTC day; well inside max-age and judged on arrival
    private final Instant t0 = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(3));

    @BeforeAll
    static void topics() throws Exception {
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            KafkaTopics.createMissing(admin, new KeymeterProperties(null, null, null, null, null, null, null, null, null,
                    null, null));
        }
    }

    @AfterEach
    void stop() {
        started.forEach(s -> s.close(Duration.ofSeconds(10)));
    }

    /** {@code lostDisk}: the second instance starts on an empty state directory, else on the first one's. */
    @ParameterizedTest(name = "lost disk: {0}")
    @ValueSource(booleans = {true, false})
    void theNextInstanceJudgesAndCountsAsTheOneBeforeIt(boolean lostDisk) throws Exception {
        SimpleMeterRegistry firstCounters = new SimpleMeterRegistry();
        KafkaStreams first = start(firstDisk, Duration.ofDays(1), firstCounters);
        sendKeyState(key.state(KeyStatus.ACTIVE, t0.plus(Duration.ofDays(30)), t0));
        send(key.request("r1", KeyFixtures.BASEMAPS, 2, t0.plus(Duration.ofMinutes(1))),
                key.request("r2", KeyFixtures.BASEMAPS, 3, t0.plus(Duration.ofMinutes(2))));
        sendKeyState(key.state(KeyStatus.INVALIDATED, t0.plus(Duration.ofDays(30)), t0.plus(Duration.ofMinutes(10))));
        send(key.request("r5", KeyFixtures.BASEMAPS, 1, t0.plus(Duration.ofMinutes(11))));
        removeKey(t0.plus(Duration.ofMinutes(20))); // the credential store's tombstone, forget-after later
        send(key.request("r8", KeyFixtures.BASEMAPS, 1, t0.plus(Duration.ofMinutes(21))));

        // committed (exactly-once): the removal and everything before it is in the first instance's changelogs
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(latestUsage()).extracting(UsageDaily::requests, UsageDaily::units).containsExactly(tuple(2L, 5L));
            assertThat(rejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                    tuple("r5", RejectionReason.INVALIDATED), tuple("r8", RejectionReason.UNKNOWN_KEY));
            assertThat(alerts()).hasSize(1);
        });
        assertThat(MeteringTopics.droppedRecords(first.metrics())).isZero();
        assertThat(first.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(20)))).as("closed in time").isTrue();

        SimpleMeterRegistry secondCounters = new SimpleMeterRegistry();
        KafkaStreams second = start(lostDisk ? secondDisk : firstDisk, Duration.ofDays(2), secondCounters);
        send(key.request("r1", KeyFixtures.BASEMAPS, 2, t0.plus(Duration.ofMinutes(1))), // a resend
                key.request("r3", KeyFixtures.BASEMAPS, 4, t0.plus(Duration.ofMinutes(5))), // late, made before the invalidation
                key.request("r6", KeyFixtures.BASEMAPS, 1, t0.plus(Duration.ofMinutes(15))), // after it
                key.request("r7", KeyFixtures.BASEMAPS, 1, t0.plus(Duration.ofMinutes(25)))); // after the removal

        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            assertThat(rejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                    tuple("r5", RejectionReason.INVALIDATED),
                    tuple("r8", RejectionReason.UNKNOWN_KEY),
                    tuple("r6", RejectionReason.INVALIDATED),
                    tuple("r7", RejectionReason.UNKNOWN_KEY));
            // the history kept, behind the removal: r3 accepted, r6 invalidated; the totals kept: 3, not 1; the
            // dedupe kept: not 4
            assertThat(latestUsage()).extracting(UsageDaily::requests, UsageDaily::units).containsExactly(tuple(3L, 9L));
            assertThat(outcomes(secondCounters, MeteringTopology.ACCEPTED)).isEqualTo(1);
            assertThat(outcomes(secondCounters, MeteringTopology.DUPLICATE)).isEqualTo(1);
            assertThat(rejectionCount(second, rejections().get(0))).isEqualTo(2L);
        });
        assertThat(dedupeGenerationLength(second)).as("kept, though the window changed")
                .isEqualTo(Duration.ofDays(1).toMillis());
        // the alert state kept: r6 is within the hour of the alert r5 raised
        assertThat(alerts()).hasSize(1);
        assertThat(MeteringTopics.droppedRecords(second.metrics())).isZero();
    }

    private KafkaStreams start(Path dataDir, Duration dedupeWindow, SimpleMeterRegistry counters) {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null,
                new KeymeterProperties.Metering(dedupeWindow, null), null, null, null);
        Properties config = StreamsFactory.config(
                Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()), properties,
                MeteringConfiguration.APP_NAME, Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000));
        KafkaStreams streams = new KafkaStreams(MeteringTopology.build(
                MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, properties.topics().partitions()),
                counters), config); // the topics were made with the same default count
        started.add(streams);
        streams.start();
        return streams;
    }

    private void sendKeyState(ApiKeyState state) throws Exception {
        try (KafkaProducer<String, ApiKeyState> producer = new KafkaProducer<>(producerConfig(),
                Topics.API_KEYS.keySerde().serializer(), Topics.API_KEYS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, state.updatedAt().toEpochMilli(),
                    state.keyId(), state)).get();
        }
    }

    /** A tombstone for the test's key, as the credential store writes for a key dead long enough. */
    private void removeKey(Instant at) throws Exception {
        try (KafkaProducer<String, ApiKeyState> producer = new KafkaProducer<>(producerConfig(),
                Topics.API_KEYS.keySerde().serializer(), Topics.API_KEYS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<String, ApiKeyState>(Topics.API_KEYS.name(), null, at.toEpochMilli(),
                    key.keyId(), null)).get();
        }
    }

    private void send(RequestLog... requests) throws Exception {
        try (KafkaProducer<String, RequestLog> producer = new KafkaProducer<>(producerConfig(),
                Topics.REQUESTS.keySerde().serializer(), Topics.REQUESTS.valueSerde().serializer())) {
            for (RequestLog request : requests) {
                producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, request.timestamp().toEpochMilli(),
                        request.keyId(), request)).get();
            }
        }
    }

    private static Map<String, Object> producerConfig() {
        return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
    }

    /** The last total published for this test's one usage key. */
    private List<UsageDaily> latestUsage() {
        List<UsageDaily> totals = TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.USAGE_DAILY).stream()
                .map(ConsumerRecord::value).filter(u -> u.accountId().equals(account)).toList();
        return totals.isEmpty() ? List.of() : List.of(totals.get(totals.size() - 1));
    }

    /** By keyId: an {@code unknown-key} rejection has no account. */
    private List<Rejection> rejections() {
        return TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.REJECTIONS).stream()
                .map(ConsumerRecord::value).filter(r -> key.keyId().equals(r.keyId())).toList();
    }

    private List<SecurityAlert> alerts() {
        return TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.SECURITY_ALERTS).stream()
                .map(ConsumerRecord::value).filter(a -> a.accountId().equals(account)).toList();
    }

    /** The count kept for this key's credential, day and reason, {@code rejection}'s (all in one day here). */
    private static long rejectionCount(KafkaStreams streams, Rejection rejection) {
        Long count = streams.store(StoreQueryParameters.fromNameAndType(MeteringTopology.REJECTION_COUNTS_STORE,
                        QueryableStoreTypes.<String, Long>keyValueStore()))
                .get(RejectionCounter.keyOf(rejection));
        return count == null ? 0 : count;
    }

    private static Long dedupeGenerationLength(KafkaStreams streams) {
        return streams.store(StoreQueryParameters.fromNameAndType(MeteringTopology.DEDUPE_STORE,
                        QueryableStoreTypes.<Bytes, Long>keyValueStore()))
                .get(Deduplicator.GENERATION_LENGTH_KEY);
    }

    private static double outcomes(SimpleMeterRegistry counters, String outcome) {
        return counters.get(MeteringTopology.REQUESTS_METRIC).tag(OutcomeCounters.OUTCOME_TAG, outcome).counter().count();
    }
}
