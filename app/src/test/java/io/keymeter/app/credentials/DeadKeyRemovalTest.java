package io.keymeter.app.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.AppHttp;
import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.Topics;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * A dead key leaves {@code keymeter.api-keys} {@code keymeter.keys.forget-after} after its last state: the credential
 * store writes a tombstone, and verify forgets the key. Own broker and Keymeter, to shorten forget-after to seconds.
 */
@Timeout(180)
class DeadKeyRemovalTest {

    private static final String ACCOUNT_TOKEN = "token-dead-keys";
    private static final String GATEWAY = "dead-keys-gateway";
    private static final Duration FORGET_AFTER = Duration.ofSeconds(5);

    private OwnKafka kafka;
    private AppHttp http;

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-dead-keys");
        http = kafka.startCredentialsAndMetering("dead-keys", ACCOUNT_TOKEN, GATEWAY,
                "--keymeter.keys.forget-after=" + FORGET_AFTER);
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void aKeyRegeneratedAwayIsForgottenWhileItsSuccessorStaysValid() throws Exception {
        String credential = json(post("/v1/credentials",
                "{\"name\":\"rotating\",\"privileges\":[\"premium:user:basemaps\"],\"itemAccess\":[],\"referrers\":[]}",
                201)).get("id").asString();
        String expiresAt = Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS).toString();
        JsonNode old = json(post("/v1/credentials/" + credential + "/keys", "{\"expiresAt\":\"" + expiresAt + "\"}", 201));
        await().atMost(Duration.ofSeconds(60)).until(() -> verify(old).contains("\"valid\":true"));

        Instant beforeRegenerating = Instant.now(); // no later than the old key's invalidation
        JsonNode fresh = json(post("/v1/credentials/" + credential + "/keys/1/regenerate", "{}", 201));
        await().atMost(Duration.ofSeconds(30)).until(() -> verify(old).contains("\"reason\":\"invalidated\""));

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> verify(old).contains("\"reason\":\"unknown-key\""));
        assertThat(Duration.between(beforeRegenerating, Instant.now())).as("not before its time")
                .isGreaterThanOrEqualTo(FORGET_AFTER);
        assertThat(verify(fresh)).contains("\"valid\":true");
        List<ConsumerRecord<String, byte[]>> oldStates = apiKeyRecords(old.get("keyId").asString());
        assertThat(oldStates).extracting(r -> r.value() == null).containsExactly(false, false, true);
        assertThat(oldStates.get(2).timestamp() - oldStates.get(1).timestamp())
                .as("stamped forget-after or more after the invalidation").isGreaterThanOrEqualTo(FORGET_AFTER.toMillis());
        assertThat(apiKeyRecords(fresh.get("keyId").asString())).extracting(r -> r.value() == null)
                .containsExactly(false);
    }

    /** Every record of one key on {@code keymeter.api-keys}, in order (the topic is not compacted this soon). */
    private List<ConsumerRecord<String, byte[]>> apiKeyRecords(String keyId) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(Topics.API_KEYS.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (keyId.equals(r.key())) {
                        found.add(r);
                    }
                });
            }
            return found;
        }
    }

    private String verify(JsonNode key) throws IOException, InterruptedException {
        return http.verify(key.get("apiKey").asString(), "basemaps", GATEWAY);
    }

    private HttpResponse<String> post(String path, String json, int expected) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send("POST", path, json, ACCOUNT_TOKEN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(expected);
        return response;
    }

    private static JsonNode json(HttpResponse<String> response) {
        return AppHttp.json(response);
    }
}
