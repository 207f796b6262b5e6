package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.Json;
import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsApp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * An operator adds partitions to Keymeter's topics while it runs (the usual way to scale a Kafka topic, and one
 * Keymeter cannot follow for metering). Metering must stop and say why instead of looping; credential calls must
 * still get their replies, and verify must still see an invalidation, when Kafka routes them to an added partition.
 * Own broker: the shared one's topics must keep their counts.
 */
@Timeout(240)
class PartitionsAddedTest {

    private static final String ACCOUNT_TOKEN = "token-partitions";
    private static final String GATEWAY = "partitions-gateway";
    private static final int BEFORE = 6;
    private static final int AFTER = 12;

    private OwnKafka kafka;
    private ConfigurableApplicationContext app;
    private Admin admin;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-partitions");
        admin = kafka.admin();
        app = startKeymeter();
    }

    private ConfigurableApplicationContext startKeymeter() {
        return kafka.startKeymeter(
                "--keymeter.roles=credential-store,metering",
                "--keymeter.data-dir=" + kafka.dir(),
                "--keymeter.topics.partitions=" + BEFORE,
                "--keymeter.gateway-tokens[0]=" + GATEWAY,
                "--keymeter.accounts[0].id=partitions",
                "--keymeter.accounts[0].token=" + ACCOUNT_TOKEN,
                // the Streams producers' metadata refreshed within the test's minute (Kafka's default is 5 min), so
                // replies reach the added partitions; the main consumer keeps the production setting (5 s), so
                // metering stops as it would in production
                "--spring.kafka.streams.properties.producer.metadata.max.age.ms=500");
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void meteringStopsAndSaysWhyWhileRepliesAndInvalidationsOnAddedPartitionsStillArrive() throws Exception {
        await().atMost(Duration.ofSeconds(90)).until(() -> streams("metering").state() == KafkaStreams.State.RUNNING
                && streams("credential-store").state() == KafkaStreams.State.RUNNING);
        // a key whose state will be sent to an added partition once the producers see the new count
        String credential;
        JsonNode key;
        do {
            credential = createCredential();
            HttpResponse<String> generated = post("/v1/credentials/" + credential + "/keys",
                    "{\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS)
                            + "\"}",
                    ACCOUNT_TOKEN);
            assertThat(generated.statusCode()).as(generated.body()).isEqualTo(201);
            key = json(generated);
        } while (KafkaTopics.partitionOf(key.get("keyId").asString(), AFTER) < BEFORE);
        String apiKey = key.get("apiKey").asString();
        String verify = "{\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\"}";
        await().atMost(Duration.ofSeconds(30)).until(() -> post("/v1/verify", verify, GATEWAY).body()
                .contains("\"valid\":true"));

        // all three topics joined by keyId, as a careful operator would: start-up refuses them at different counts
        admin.createPartitions(Map.of(Topics.API_KEYS.name(), NewPartitions.increaseTo(AFTER),
                Topics.REQUESTS.name(), NewPartitions.increaseTo(AFTER),
                Topics.REJECTIONS.name(), NewPartitions.increaseTo(AFTER),
                Topics.CREDENTIAL_REPLIES, NewPartitions.increaseTo(AFTER))).all().get();

        await().atMost(Duration.ofSeconds(60)).until(() -> streams("metering").state() == KafkaStreams.State.ERROR);
        HttpResponse<String> health = get("/actuator/health");
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(json(health).at("/components/streams/details/meteringStoppedBecause").asString())
                .startsWith("metering stopped: the partition count of a topic it reads changed")
                .contains("expected: " + AFTER + "; actual: " + BEFORE);
        assertThat(streams("credential-store").state()).isEqualTo(KafkaStreams.State.RUNNING);

        // every call answers, also once replies are sent to the added partitions (each reply 5 s late otherwise)
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            createCredential();
            return endOffsets(Topics.CREDENTIAL_REPLIES, BEFORE, AFTER) > 0;
        });

        assertThat(post("/v1/credentials/" + credential + "/keys/1/invalidate", null, ACCOUNT_TOKEN).statusCode())
                .isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> post("/v1/verify", verify, GATEWAY).body()
                .contains("\"reason\":\"invalidated\""));
        // and it was on an added partition that the invalidation arrived
        int partition = KafkaTopics.partitionOf(key.get("keyId").asString(), AFTER);
        assertThat(endOffsets(Topics.API_KEYS.name(), partition, partition + 1)).isPositive();

        // a restart takes its old place in the group without a new assignment, so Kafka Streams would not check
        // again: metering must refuse to start, not run on the old six tasks
        app = startKeymeter();
        assertThat(streams("metering").state()).isEqualTo(KafkaStreams.State.ERROR);
        assertThat(json(get("/actuator/health")).at("/components/streams/details/meteringStoppedBecause").asString())
                .startsWith("metering not started: its internal topics are laid out for another partition count than "
                        + "the topics it reads (keymeter.api-keys " + AFTER + ", keymeter.requests " + AFTER + ")")
                .contains("keymeter-metering-usage-by-day-repartition has " + BEFORE + " partitions, " + AFTER
                        + " expected");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> streams("credential-store").state() == KafkaStreams.State.RUNNING);
        await().atMost(Duration.ofSeconds(30)).until(() -> post("/v1/verify", verify, GATEWAY).body()
                .contains("\"reason\":\"invalidated\""));

        // the credential store's commands scaled: the store stops; a change is refused at once saying why, and
        // readiness is DOWN (before, each change waited 25 s for a reply that never came, readiness UP)
        admin.createPartitions(Map.of(Topics.CREDENTIAL_COMMANDS, NewPartitions.increaseTo(AFTER))).all().get();
        await().atMost(Duration.ofSeconds(60)).until(() -> streams("credential-store").stoppedBecause().isPresent());
        String reason = streams("credential-store").stoppedBecause().orElseThrow();
        HttpResponse<String> refused = post("/v1/credentials/" + credential + "/keys/2/invalidate", null, ACCOUNT_TOKEN);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(json(refused).get("detail").asString()).contains("has stopped and needs a restart").contains(reason);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("30");
        HttpResponse<String> readiness = get("/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(503);
        assertThat(json(readiness).at("/components/credentialChanges/details/reason").asString()).isEqualTo(reason);
    }

    private String createCredential() throws IOException, InterruptedException {
        HttpResponse<String> created = post("/v1/credentials",
                "{\"name\":\"p\",\"privileges\":[\"premium:user:basemaps\"],\"itemAccess\":[],\"referrers\":[]}",
                ACCOUNT_TOKEN);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).get("id").asString();
    }

    /** Records in partitions [from, to) of a topic. */
    private long endOffsets(String topic, int from, int to) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = IntStream.range(from, to).boxed()
                .collect(Collectors.toMap(p -> new TopicPartition(topic, p), p -> OffsetSpec.latest()));
        return admin.listOffsets(latest).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    private StreamsApp streams(String name) {
        return kafka.streams(name);
    }

    private static JsonNode json(HttpResponse<String> response) {
        return Json.mapper().readTree(response.body());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://localhost:" + ((WebServerApplicationContext) app).getWebServer().getPort() + path);
    }
}
