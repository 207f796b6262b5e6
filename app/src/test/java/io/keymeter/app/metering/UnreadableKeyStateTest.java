package io.keymeter.app.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.app.support.AppHttp;
import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.verify.KeyStateCache;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.TopicReader;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A key state nobody can read on {@code keymeter.api-keys} (a writer other than the credential store, a damaged
 * record), or an active one without the account its usage is billed to: metering sends it to the dead letters and keeps
 * judging by the key's previous state, verify skips it (with a warning), and the key's next state applies in both.
 * On a broker of its own: on the shared one the record would stay on the topic the other tests read typed.
 */
@Timeout(180)
class UnreadableKeyStateTest {

    private static final String ACCOUNT = "unreadable-states";
    private static final String ACCOUNT_TOKEN = "token-unreadable-states";
    private static final String GATEWAY = "unreadable-states-gateway";

    private OwnKafka kafka;
    private AppHttp http;

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-unreadable-states");
        http = kafka.startCredentialsAndMetering(ACCOUNT, ACCOUNT_TOKEN, GATEWAY);
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void anUnreadableKeyStateGoesToTheDeadLettersAndThePreviousStateStillJudges() throws Exception {
        String credential = AppHttp.json(post("/v1/credentials",
                "{\"name\":\"damaged\",\"privileges\":[\"premium:user:basemaps\"],\"itemAccess\":[],\"referrers\":[]}"))
                .get("id").asString();
        String expiresAt = Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS).toString();
        String apiKey = AppHttp.json(post("/v1/credentials/" + credential + "/keys", "{\"expiresAt\":\"" + expiresAt + "\"}"))
                .get("apiKey").asString();
        ApiKeys.ParsedKey key = ApiKeys.parse(apiKey).orElseThrow();
        await().atMost(Duration.ofSeconds(60)).until(() -> verify(apiKey).contains("\"valid\":true"));

        Logger cacheLog = (Logger) LoggerFactory.getLogger(KeyStateCache.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        cacheLog.addAppender(logged);
        byte[] damaged = ("{\"keyId\":\"" + key.keyId() + "\",\"status\": damaged}").getBytes(StandardCharsets.UTF_8);
        // well-formed and active, but without the account: before, every request it accepted went to the dead
        // letters unbilled (its usage could not be keyed), the key's previous state ignored
        byte[] accountless = ("{\"keyId\":\"" + key.keyId() + "\",\"credentialId\":\"" + credential
                + "\",\"slot\":1,\"status\":\"active\",\"expiresAt\":\"" + expiresAt + "\",\"secretHash\":\""
                + key.secretHash() + "\",\"privileges\":[\"premium:user:basemaps\"],\"updatedAt\":\""
                + Instant.now() + "\"}").getBytes(StandardCharsets.UTF_8);
        Instant stamped = Instant.now();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, stamped.toEpochMilli(), key.keyId(),
                    damaged)).get();
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, stamped.toEpochMilli(), key.keyId(),
                    accountless)).get();
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<ConsumerRecord<byte[], byte[]>> dead = TopicReader.readRaw(kafka.bootstrapServers(), Topics.DEAD_LETTERS);
            assertThat(dead).hasSize(2);
            assertThat(dead).extracting(letter -> new String(letter.key(), StandardCharsets.UTF_8))
                    .containsOnly(key.keyId());
            assertThat(dead).extracting(ConsumerRecord::value).containsExactly(damaged, accountless);
            assertThat(dead).extracting(TopicReader::headers).allSatisfy(headers -> assertThat(headers)
                    .containsEntry("__streams.errors.topic", Topics.API_KEYS.name())
                    .containsEntry("__streams.errors.exception",
                            "org.apache.kafka.common.errors.SerializationException"));
            assertThat(TopicReader.headers(dead.get(1))).containsEntry("__streams.errors.message",
                    "cannot read ApiKeyState from " + Topics.API_KEYS.name() + ": no accountId");
        });

        // made after the two records' time: judged by the state before them, the key's only usable one
        String run = UUID.randomUUID().toString();
        kafka.sendRequests(request(run + "-after-damage", key, stamped.plusSeconds(1)));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(usage(credential)).extracting(UsageDaily::requests, UsageDaily::units)
                        .containsExactly(1L, 2L));
        try {
            // verify has read past them, and skipped both (the sampled log names the first; the count says both)
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(logged.list)
                    .extracting(ILoggingEvent::getFormattedMessage).anyMatch(line ->
                            line.startsWith("Skipping unreadable key state at " + Topics.API_KEYS.name() + "-")));
            await().atMost(Duration.ofSeconds(30)).until(() -> kafka.bean(KeyStateCache.class).unreadableStates() == 2);
        } finally {
            cacheLog.detachAppender(logged);
        }
        assertThat(verify(apiKey)).contains("\"valid\":true");
        StreamsApp metering = kafka.streams("metering");
        assertThat(metering.state()).isEqualTo(KafkaStreams.State.RUNNING);
        assertThat(droppedRecords(metering)).isEqualTo(2.0);

        // the key's next state is read as ever, by both: an invalidation, which needs no account (it bills nothing)
        byte[] invalidation = ("{\"keyId\":\"" + key.keyId() + "\",\"slot\":1,\"status\":\"invalidated\",\"expiresAt\":\""
                + expiresAt + "\",\"secretHash\":\"" + key.secretHash() + "\",\"updatedAt\":\"" + Instant.now() + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, Instant.now().toEpochMilli(), key.keyId(),
                    invalidation)).get();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> verify(apiKey).contains("\"reason\":\"invalidated\""));
        kafka.sendRequests(request(run + "-after-invalidation", key, Instant.now().plusSeconds(1)));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(TopicReader.readAll(kafka.bootstrapServers(), Topics.REJECTIONS))
                        .extracting(ConsumerRecord::value)
                        .extracting(Rejection::requestId, Rejection::reason)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple(run + "-after-invalidation",
                                RejectionReason.INVALIDATED)));
        assertThat(usage(credential)).extracting(UsageDaily::requests).isEqualTo(1L);
        assertThat(droppedRecords(metering)).as("the invalidation taken").isEqualTo(2.0);
    }

    private static RequestLog request(String id, ApiKeys.ParsedKey key, Instant at) {
        return new RequestLog(id, key.keyId(), key.secretHash(), "basemaps", "tile", 2, null, null, at);
    }

    /** The credential's latest daily total: one day, one service (a run crossing midnight UTC retries). */
    private UsageDaily usage(String credential) {
        Map<String, UsageDaily> latest = new HashMap<>();
        TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE_DAILY).stream()
                .filter(r -> credential.equals(r.value().credentialId()))
                .forEach(r -> latest.put(r.key(), r.value()));
        assertThat(latest).hasSize(1);
        return latest.values().iterator().next();
    }

    /** Kafka Streams' {@code dropped-records-total}, summed over metering's tasks. */
    private static double droppedRecords(StreamsApp streams) {
        return streams.kafkaStreams().metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals("dropped-records-total"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
    }

    private String verify(String apiKey) throws IOException, InterruptedException {
        return http.verify(apiKey, "basemaps", GATEWAY);
    }

    private HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send("POST", path, json, ACCOUNT_TOKEN);
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 201);
        return response;
    }
}
