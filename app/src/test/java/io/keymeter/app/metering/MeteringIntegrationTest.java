package io.keymeter.app.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Metering on the real broker inside the whole app: key states and requests published the way credential-store
 * and gateways publish them, exact totals read back from {@code keymeter.usage-daily}.
 */
@KeymeterIntegrationTest
class MeteringIntegrationTest {

    private static final String ACCOUNT = "tyrell";

    @Autowired
    KafkaClients clients;

    @Autowired
    List<StreamsApp> streamsApps;

    @Autowired
    KafkaTopics topics;

    @Test
    void publishesExactDailyTotalsAndRejections() throws Exception {
        String credential = "cred-" + UUID.randomUUID();
        ApiKeys.GeneratedKey slot1 = ApiKeys.generate();
        ApiKeys.GeneratedKey slot2 = ApiKeys.generate();
        // from the start of an hour: the requests (5 minutes in, 4 s apart) never span a UTC midnight, where the
        // totals would split over two days
        Instant created = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(1));
        Instant invalidated = created.plus(Duration.ofMinutes(10));
        publish(Topics.API_KEYS, slot1.keyId(), state(slot1, credential, 1, KeyStatus.ACTIVE, created), created);
        publish(Topics.API_KEYS, slot2.keyId(), state(slot2, credential, 2, KeyStatus.ACTIVE, created), created);
        publish(Topics.API_KEYS, slot2.keyId(), state(slot2, credential, 2, KeyStatus.INVALIDATED, invalidated), invalidated);

        Instant t = created.plus(Duration.ofMinutes(5));
        String run = UUID.randomUUID().toString();
        RequestLog resent = request(run + "-1", slot1, "basemaps", 3, t);
        List<RequestLog> requests = List.of(
                resent, resent,                                                    // counted once
                request(run + "-2", slot1, "basemaps", 2, t.plusSeconds(1)),
                request(run + "-3", slot2, "basemaps", 4, t.plusSeconds(2)),       // before slot 2's invalidation
                request(run + "-4", slot1, "geocoding", 1, t.plusSeconds(3)),
                request(run + "-5", slot2, "basemaps", 1, invalidated.plusSeconds(1)), // after it
                request(run + "-6", slot1, "routing", 1, t.plusSeconds(4)));       // no privilege
        for (RequestLog request : requests) {
            publish(Topics.REQUESTS, request.keyId(), request, request.timestamp());
        }

        LocalDate day = LocalDate.ofInstant(t, ZoneOffset.UTC);
        String basemaps = UsageDaily.key(ACCOUNT, credential, "basemaps", day);
        String geocoding = UsageDaily.key(ACCOUNT, credential, "geocoding", day);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Map<String, UsageDaily> latest = new HashMap<>();
            for (ConsumerRecord<String, UsageDaily> record : TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.USAGE_DAILY)) {
                if (record.key().startsWith(ACCOUNT + "/" + credential + "/")) {
                    latest.put(record.key(), record.value());
                }
            }
            assertThat(latest).containsOnlyKeys(basemaps, geocoding);
            assertThat(latest.get(basemaps)).isEqualTo(new UsageDaily(ACCOUNT, credential, "basemaps", day, 3, 9));
            assertThat(latest.get(geocoding)).isEqualTo(new UsageDaily(ACCOUNT, credential, "geocoding", day, 1, 1));
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Map<String, RejectionReason> reasons = new HashMap<>();
            for (ConsumerRecord<String, Rejection> record : TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.REJECTIONS)) {
                if (credential.equals(record.value().credentialId())) {
                    reasons.put(record.value().requestId(), record.value().reason());
                }
            }
            assertThat(reasons).containsExactlyInAnyOrderEntriesOf(Map.of(
                    run + "-5", RejectionReason.INVALIDATED, run + "-6", RejectionReason.SERVICE_NOT_PERMITTED));
        });
    }

    /**
     * Also: Kafka logs no stack trace for it (its deserializer and LogAndContinue handlers would, about 180 lines a
     * record); platform's {@code DeadLetterHandler} logs a line at most.
     */
    @Test
    void anUnreadableRequestGoesToTheDeadLetterTopicAndMeteringKeepsRunning() throws Exception {
        String key = ApiKeys.newKeyId();
        byte[] poison = ("{\"requestId\": poison " + UUID.randomUUID() + "}").getBytes(StandardCharsets.UTF_8);
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(clients.producer("metering-it-poison"),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), key, poison)).get();
        }

        try {
            awaitDeadLetter(key, poison);
        } finally {
            root.detachAppender(logged);
        }
        // metering's own threads: the shared context's other topologies may log a rebalance's exception meanwhile
        assertThat(logged.list).filteredOn(event -> event.getLoggerName().startsWith("org.apache.kafka.streams"))
                .filteredOn(event -> event.getThreadName().startsWith("keymeter-metering-"))
                .filteredOn(event -> event.getThrowableProxy() != null)
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        // still running (a poison record must not kill it; ERROR is final), allowing for a rebalance in progress
        awaitMeteringRunning();
    }

    /**
     * A request older than the key history (a gateway backfilling weeks-old logs straight to the topic) is refused
     * {@code unknown-key} and counted, without a line in the log: Kafka's versioned store warned once per request
     * ("Returning null for expired get"), a log line for every record of a backfill.
     */
    @Test
    void aRequestOlderThanTheKeyHistoryIsRefusedWithoutALogLineEach() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        String credential = "cred-" + UUID.randomUUID();
        Instant now = Instant.now();
        // the key's state now, so the store's history ends 36 days and 5 minutes before now
        publish(Topics.API_KEYS, key.keyId(), state(key, credential, 1, KeyStatus.ACTIVE, now), now);
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        String id = "old-" + UUID.randomUUID();
        try {
            publish(Topics.REQUESTS, key.keyId(), request(id, key, "basemaps", 1, now.minus(Duration.ofDays(40))), now);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.REJECTIONS))
                            .filteredOn(r -> id.equals(r.value().requestId()))
                            .extracting(r -> r.value().reason()).containsExactly(RejectionReason.UNKNOWN_KEY));
        } finally {
            root.detachAppender(logged);
        }
        assertThat(logged.list).extracting(ILoggingEvent::getLoggerName)
                .doesNotContain("org.apache.kafka.streams.state.internals.RocksDBVersionedStore");
    }

    /**
     * A request stamped 2100-01-01 produced straight to the request log (the contract lets gateways do so): its dead
     * letter carried that time, the broker refused it (more than message.timestamp.after.max.ms, an hour, ahead of
     * its clock), and the stream thread failed on it five times and stopped metering for every account. Found by a
     * black-box probe of a running instance; TopologyTestDriver has no broker to refuse it.
     */
    @Test
    void aRequestStampedYearsAheadGoesToTheDeadLettersStampedNowAndMeteringKeepsRunning() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant sent = Instant.now();
        publish(Topics.REQUESTS, key.keyId(), request("ahead-" + UUID.randomUUID(), key, "basemaps", 1,
                Instant.parse("2100-01-01T00:00:00Z")), sent);

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<ConsumerRecord<byte[], byte[]>> dead = TopicReader.readRaw(SharedKafka.bootstrapServers(),
                    Topics.DEAD_LETTERS).stream().filter(r -> r.key() != null
                            && new String(r.key(), StandardCharsets.UTF_8).equals(key.keyId())).toList();
            assertThat(dead).hasSize(1);
            Map<String, String> headers = TopicReader.headers(dead.get(0));
            assertThat(headers.get("__streams.errors.message")).contains("2100-01-01T00:00:00Z");
            assertThat(headers).containsEntry("keymeter.errors.timestamp", "4102444800000");
            assertThat(dead.get(0).timestamp()).isBetween(sent.toEpochMilli(), Instant.now().toEpochMilli());
        });
        awaitMeteringRunning();
    }

    /**
     * An unreadable record just under the broker's size limit: with a stack trace added, its dead letter would be
     * over the producer's, and a dead letter the producer refuses fails the stream thread, which meets the record
     * again, for ever. Its dead letter leaves the value on the requests topic, names where, and metering goes on.
     */
    @Test
    void anUnreadableRequestTooLargeToCopyGoesToTheDeadLettersWithoutItsValue() throws Exception {
        String key = ApiKeys.newKeyId();
        byte[] poison = "x".repeat(1_048_000).getBytes(StandardCharsets.UTF_8);
        Map<String, Object> config = new HashMap<>(clients.producer("metering-it-big-poison"));
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024);
        RecordMetadata sent;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(),
                new ByteArraySerializer())) {
            sent = producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), key, poison)).get();
        }

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<Map<String, String>> dead = deadLettersOf(sent);
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).get("keymeter.errors.omitted")).startsWith("value (1048000 bytes): too large");
            assertThat(dead.get(0).get("__streams.errors.message")).contains("cannot read RequestLog");
        });
        awaitMeteringRunning();
    }

    /**
     * A readable request padded with an unknown field, compressed: the broker limits the batch after compression and
     * took it, and metering copied its 2 MB into the join buffer's changelog, which its producer refused (its limit is
     * on the size before compression): the stream thread failed on it, read it again, and metering stopped for every
     * account. Now a request over ingest's line limit is unreadable, and the request after it on its partition is
     * judged.
     */
    @Test
    void aRequestOverTheLineLimitGoesToTheDeadLettersAndTheNextIsJudged() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant now = Instant.now();
        String run = UUID.randomUUID().toString();
        String padded = new String(Topics.REQUESTS.valueSerde().serializer().serialize(Topics.REQUESTS.name(),
                request(run + "-padded", key, "basemaps", 1, now)), StandardCharsets.UTF_8)
                .replaceFirst("\\}$", ",\"pad\":\"" + "x".repeat(2_000_000) + "\"}");
        Map<String, Object> config = new HashMap<>(clients.producer("metering-it-padded"));
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        RecordMetadata sent;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(),
                new ByteArraySerializer())) {
            sent = producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, now.toEpochMilli(), key.keyId(),
                    padded.getBytes(StandardCharsets.UTF_8))).get();
        }
        publish(Topics.REQUESTS, key.keyId(), request(run + "-next", key, "basemaps", 1, now), now);

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<Map<String, String>> dead = deadLettersOf(sent);
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).get("__streams.errors.message")).contains("cannot read RequestLog")
                    .contains("bytes, more than");
        });
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.REJECTIONS)).anySatisfy(r -> {
                    assertThat(r.value().requestId()).isEqualTo(run + "-next");
                    assertThat(r.value().reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
                }));
        awaitMeteringRunning();
    }

    /**
     * A gateway whose client partitions otherwise than Kafka's default (librdkafka's {@code consistent_random}, Sarama's
     * FNV) puts a request on another partition than its key's states: it was refused {@code unknown-key} there while
     * verify found the key valid, never billed, and nothing said why. Now a dead letter naming both partitions; the
     * same request on its keyId's partition is judged.
     */
    @Test
    void aRequestOnAnotherPartitionThanItsKeyIdsGoesToTheDeadLettersSayingWhy() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant now = Instant.now();
        String run = UUID.randomUUID().toString();
        int partitions = topics.partitions(Topics.REQUESTS.name());
        int home = KafkaTopics.partitionOf(key.keyId(), partitions);
        int away = (home + 1) % partitions;
        RecordMetadata sent = publish(Topics.REQUESTS, away, key.keyId(), request(run + "-away", key, "basemaps", 1, now),
                now);
        publish(Topics.REQUESTS, key.keyId(), request(run + "-home", key, "basemaps", 1, now), now);

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<Map<String, String>> dead = deadLettersOf(sent);
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).get("__streams.errors.message")).isEqualTo("request on partition " + away
                    + " of keymeter.requests, where its keyId's states are on partition " + home + " of " + partitions
                    + ": produce it with Kafka's default partitioner (murmur2 of the key; librdkafka:"
                    + " partitioner=murmur2_random)");
        });
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.REJECTIONS))
                .filteredOn(r -> r.value().requestId() != null && r.value().requestId().startsWith(run))
                .singleElement().satisfies(r -> {
                    assertThat(r.value().requestId()).isEqualTo(run + "-home");
                    assertThat(r.value().reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
                }));
        awaitMeteringRunning();
    }

    /** The headers of the dead letters of this request record. */
    private static List<Map<String, String>> deadLettersOf(RecordMetadata sent) {
        return TopicReader.readRaw(SharedKafka.bootstrapServers(), Topics.DEAD_LETTERS).stream().map(TopicReader::headers)
                .filter(headers -> Topics.REQUESTS.name().equals(headers.get("__streams.errors.topic"))
                        && String.valueOf(sent.partition()).equals(headers.get("__streams.errors.partition"))
                        && String.valueOf(sent.offset()).equals(headers.get("__streams.errors.offset")))
                .toList();
    }

    private void awaitMeteringRunning() {
        StreamsApp metering = streamsApps.stream().filter(app -> app.name().equals("metering")).findFirst()
                .orElseThrow();
        await().atMost(Duration.ofSeconds(30)).until(() -> metering.state() == KafkaStreams.State.RUNNING);
    }

    private static void awaitDeadLetter(String key, byte[] poison) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<ConsumerRecord<byte[], byte[]>> dead = TopicReader.readRaw(SharedKafka.bootstrapServers(), Topics.DEAD_LETTERS)
                    .stream().filter(r -> r.value() != null && new String(r.value(), StandardCharsets.UTF_8)
                            .equals(new String(poison, StandardCharsets.UTF_8))).toList();
            assertThat(dead).hasSize(1);
            assertThat(new String(dead.get(0).key(), StandardCharsets.UTF_8)).isEqualTo(key);
            Map<String, String> headers = TopicReader.headers(dead.get(0));
            assertThat(headers).containsEntry("__streams.errors.topic", Topics.REQUESTS.name())
                    .containsEntry("__streams.errors.exception", "org.apache.kafka.common.errors.SerializationException");
            assertThat(headers.get("__streams.errors.message")).contains("cannot read RequestLog");
        });
    }

    private <V> void publish(Topic<String, V> topic, String key, V value, Instant timestamp) throws Exception {
        publish(topic, null, key, value, timestamp);
    }

    /** Produced to {@code partition}, or where the default partitioner puts {@code key} when it is null. */
    private <V> RecordMetadata publish(Topic<String, V> topic, Integer partition, String key, V value,
                                       Instant timestamp) throws Exception {
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(clients.producer("metering-it"),
                topic.keySerde().serializer(), topic.valueSerde().serializer())) {
            return producer.send(new ProducerRecord<>(topic.name(), partition, timestamp.toEpochMilli(), key, value))
                    .get();
        }
    }

    private static ApiKeyState state(ApiKeys.GeneratedKey key, String credential, int slot, KeyStatus status, Instant at) {
        return new ApiKeyState(key.keyId(), credential, ACCOUNT, slot, status, at.plus(Duration.ofDays(30)), key.secretHash(),
                List.of("premium:user:basemaps", "premium:user:geocode:temporary"), List.of(), List.of(), at);
    }

    private static RequestLog request(String id, ApiKeys.GeneratedKey key, String service, long units, Instant at) {
        return new RequestLog(id, key.keyId(), key.secretHash(), service, "op", units, null, null, at);
    }
}
