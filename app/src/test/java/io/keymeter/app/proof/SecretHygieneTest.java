package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.AppHttp;
import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Json;
import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationContext;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/**
 * After an end-to-end run (keys issued, rotated, used through ingest and verify, a mistyped key sent, keys in a
 * logged URL, a key given as keyId by a gateway producing directly), no plaintext key or secret is found anywhere
 * Keymeter writes: any topic (internal ones included), the state directories, the broker's log segments, or the log
 * output. The direct request's own record on keymeter.requests holds what its gateway put there.
 */
@KeymeterIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class SecretHygieneTest {

    private static final String ACCOUNT = "wayne";

    @Autowired
    TestRestTemplate http;

    @Autowired
    ApplicationContext app;

    @Autowired
    KeymeterProperties properties;

    @Test
    void noPlaintextKeyReachesATopicAStoreALogSegmentOrALogLine(CapturedOutput output) throws Exception {
        String credentialId = post("/v1/credentials", Map.of("name", "hygiene",
                "privileges", List.of("premium:user:geocode:temporary", "premium:user:basemaps"),
                "itemAccess", List.of(), "referrers", List.of()), TestAccounts.token(ACCOUNT)).get("id").asString();
        String expiresAt = Instant.now().plus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS).toString();
        List<String> keys = new ArrayList<>();
        keys.add(post("/v1/credentials/" + credentialId + "/keys", Map.of("slot", 1, "expiresAt", expiresAt),
                TestAccounts.token(ACCOUNT)).get("apiKey").asString());
        keys.add(post("/v1/credentials/" + credentialId + "/keys", Map.of("slot", 2, "expiresAt", expiresAt),
                TestAccounts.token(ACCOUNT)).get("apiKey").asString());
        keys.add(post("/v1/credentials/" + credentialId + "/keys/1/regenerate", Map.of(),
                TestAccounts.token(ACCOUNT)).get("apiKey").asString());
        String mistyped = keys.get(0).substring(0, 30) + (keys.get(0).charAt(30) == 'a' ? 'b' : 'a') + keys.get(0).substring(31);
        keys.add(mistyped);

        StringBuilder ndjson = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) {
            ndjson.append(Json.mapper().writeValueAsString(Map.of("requestId", "hygiene-" + credentialId + "-" + i,
                    "apiKey", keys.get(i), "service", "geocoding", "operation", "find", "units", 1,
                    "timestamp", Instant.now().toString()))).append('\n');
        }
        // a gateway that logs the URL it served, the client's key in its query (as ArcGIS clients send it)
        ndjson.append(Json.mapper().writeValueAsString(Map.of("requestId", "hygiene-" + credentialId + "-url",
                "apiKey", keys.get(1), "service", "geocoding", "operation", "GET /find?token=" + keys.get(1),
                "referrer", "https://app.example.com/?token=" + keys.get(2), "itemId", "item-" + keys.get(3),
                "units", 1, "timestamp", Instant.now().toString()))).append('\n');
        HttpHeaders gateway = new HttpHeaders();
        gateway.setBearerAuth(TestAccounts.GATEWAY_TOKEN);
        gateway.setContentType(MediaType.parseMediaType("application/x-ndjson"));
        assertThat(http.exchange("/v1/requests", HttpMethod.POST, new HttpEntity<>(ndjson.toString(), gateway), String.class)
                .getStatusCode().value()).isEqualTo(202);
        gateway.setContentType(MediaType.APPLICATION_JSON);
        for (String key : keys) {
            http.exchange("/v1/verify", HttpMethod.POST,
                    new HttpEntity<>(Map.of("apiKey", key, "service", "geocoding"), gateway), String.class);
        }
        await("metering counted the accepted lines").atMost(Duration.ofSeconds(60)).until(() ->
                TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.USAGE_DAILY).stream()
                        .anyMatch(r -> r.value() != null && credentialId.equals(r.value().credentialId())));

        // a gateway producing directly that took "keyId" for the key, and kept the key in a field and a header: a key
        // of its own (never issued here), which its record on keymeter.requests holds as the gateway put it there
        String own = ApiKeys.generate().apiKey();
        String direct = "hygiene-" + credentialId + "-direct";
        String value = "{\"requestId\":\"" + direct + "\",\"keyId\":\"" + own + "\",\"secretHash\":\""
                + "0".repeat(64) + "\",\"service\":\"geocoding\",\"operation\":\"find\",\"units\":1,\"apiKey\":\""
                + own + "\"}";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()), new StringSerializer(),
                new StringSerializer())) {
            ProducerRecord<String, String> record = new ProducerRecord<>(Topics.REQUESTS.name(), own, value);
            record.headers().add("authorization", ("Bearer " + own).getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
        }
        await("the direct request dead-lettered").atMost(Duration.ofSeconds(60)).until(() ->
                TopicReader.readRaw(SharedKafka.bootstrapServers(), Topics.DEAD_LETTERS).stream()
                        .anyMatch(r -> r.value() != null && new String(r.value(), StandardCharsets.UTF_8).contains(direct)));

        List<String> secrets = new ArrayList<>();
        for (String key : keys) {
            secrets.add(key);
            secrets.add(key.substring(20, 52)); // the secret part alone
        }
        assertThat(findIn(allTopics(), secrets)).as("topics").isEmpty();
        assertThat(findInFiles(properties.dataDir(), secrets)).as("state and token files").isEmpty();
        assertThat(findInFiles(SharedKafka.broker().logDir(), secrets)).as("broker log segments").isEmpty();
        // the direct producer's own key: in its record on keymeter.requests, as it put it there, and nowhere else
        List<String> ownKey = List.of(own, own.substring(20, 52));
        List<String> written = allTopics().stream().filter(topic -> !topic.equals(Topics.REQUESTS.name())).toList();
        assertThat(findIn(written, ownKey)).as("topics but the one it wrote").isEmpty();
        assertThat(findIn(List.of(Topics.REQUESTS.name()), ownKey)).as("its own record").isNotEmpty();
        assertThat(findInFiles(properties.dataDir(), ownKey)).as("state and token files").isEmpty();
        for (String secret : secrets) {
            assertThat(output.getAll()).as("log output").doesNotContain(secret);
        }
        assertThat(output.getAll()).as("log output").doesNotContain(own.substring(20, 52));
    }

    private List<String> allTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            Set<String> names = admin.listTopics().names().get();
            return names.stream().sorted().toList();
        }
    }

    private static List<String> findIn(List<String> topics, List<String> secrets) {
        List<String> found = new ArrayList<>();
        for (String topic : topics) {
            // read_uncommitted: records of open and aborted transactions leak as much as committed ones, and a
            // read_committed read stops at the first transaction still open or not yet marked
            for (ConsumerRecord<byte[], byte[]> r : TopicReader.readRaw(SharedKafka.bootstrapServers(), topic, false)) {
                StringBuilder text = new StringBuilder()
                        .append(r.key() == null ? "" : new String(r.key(), StandardCharsets.ISO_8859_1)).append('\n')
                        .append(r.value() == null ? "" : new String(r.value(), StandardCharsets.ISO_8859_1));
                // headers too: a dead letter copies the failed record's headers (the direct producer's Authorization)
                for (Header header : r.headers()) {
                    text.append('\n').append(header.key()).append('=')
                            .append(header.value() == null ? "" : new String(header.value(), StandardCharsets.ISO_8859_1));
                }
                secrets.stream().filter(secret -> text.indexOf(secret) >= 0).forEach(s -> found.add(topic + "@" + r.partition() + ":" + r.offset()));
            }
        }
        return found;
    }

    private static List<String> findInFiles(Path root, List<String> secrets) throws IOException {
        List<String> found = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                String name = file.getFileName().toString();
                if (!attributes.isRegularFile() || name.endsWith(".index") || name.endsWith(".timeindex")) {
                    return FileVisitResult.CONTINUE; // Kafka's offset indexes hold positions only
                }
                try {
                    String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                    secrets.stream().filter(text::contains).forEach(s -> found.add(file.toString()));
                } catch (IOException e) {
                    // removed while walking (segments roll, RocksDB compacts)
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // removed between listing and reading
            }
        });
        return found;
    }

    /**
     * An operator debugging request handling turns Spring's web layer to DEBUG: it then logs each body it read (the
     * object's toString), each answer it wrote, and each exception it resolved with its message, where Jackson quotes
     * what it could not parse. A key issued, a key verified, a key sent unquoted, in a field of the wrong type or in
     * the wrong field, a key sent unquoted as a credential's name or inside a referrer, and keys in URLs (refused):
     * none is in the output, nor in an answer. (Jetty's own DEBUG logs raw bytes,
     * headers and all: no setting of Keymeter's can keep keys and tokens out of that.)
     */
    @Test
    void springsWebLayerAtDebugLogsNoKey(CapturedOutput output) throws Exception {
        String token = TestAccounts.token(ACCOUNT);
        String credentialId = post("/v1/credentials", Map.of("name", "hygiene-debug",
                "privileges", List.of("premium:user:basemaps"), "itemAccess", List.of(), "referrers", List.of()),
                token).get("id").asString();
        String expiresAt = Instant.now().plus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS).toString();
        LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());
        String key;
        // the JDK's client (AppHttp), not Spring's: at DEBUG Spring's own client logs the bodies it sends, keys and all
        AppHttp client = new AppHttp(app, Duration.ofSeconds(30));
        logging.setLogLevel("org.springframework.web", LogLevel.DEBUG);
        try {
            HttpResponse<String> issued = client.send("POST", "/v1/credentials/" + credentialId + "/keys",
                    "{\"slot\":1,\"expiresAt\":\"" + expiresAt + "\"}", token);
            assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
            key = Json.mapper().readTree(issued.body()).get("apiKey").asString();
            for (String body : List.of(
                    "{\"apiKey\":\"" + key + "\",\"service\":\"basemaps\"}",
                    "{\"apiKey\":" + key + ",\"service\":\"basemaps\"}",
                    "{\"apiKey\":[\"" + key + "\"],\"service\":\"basemaps\"}",
                    "{\"apiKey\":{\"" + key + "\":1},\"service\":\"basemaps\"}",
                    "{\"apiKey\":\"x\",\"service\":\"" + key + "\"}",
                    "{\"apiKey\":\"x\",\"service\":\"basemaps\",\"referrer\":\"" + key + "\"}",
                    "{\"apiKey\":\"x\",\"service\":\"basemaps\",\"itemId\":\"" + key + "\"}",
                    "{\"apiKey\":\"x\",\"service\":\"basemaps\",\"timestamp\":\"" + key + "\"}",
                    "{\"apiKey\":\"x\",\"service\":\"basemaps\",\"" + key + "\":1}")) {
                HttpResponse<String> answer = client.send("POST", "/v1/verify", body, TestAccounts.GATEWAY_TOKEN);
                assertThat(answer.statusCode()).as(body).isIn(200, 400);
                assertThat(answer.body()).as("the answer to " + body)
                        .doesNotContain(key.substring(20, 20 + ApiKeys.MASKED_FROM));
            }
            // in a URL, which Spring's dispatcher logs at DEBUG with its query: refused before it
            for (String url : List.of("/v1/verify?apiKey=" + key, "/v1/verify?apiKey=" + key.replace("_", "%5F"),
                    "/v1/credentials/" + key)) {
                HttpResponse<String> refused = client.send("POST", url, "{\"apiKey\":\"x\",\"service\":\"basemaps\"}",
                        TestAccounts.GATEWAY_TOKEN);
                assertThat(refused.statusCode()).as(url).isEqualTo(400);
                assertThat(refused.body()).as(url).contains("The URL holds an API key")
                        .doesNotContain(key.substring(20, 20 + ApiKeys.MASKED_FROM));
            }
            assertThat(client.send("POST", "/v1/credentials", "{\"name\":" + key + "}", token).statusCode()).isEqualTo(400);
            // taken (the client's own data, shown back to it), and logged masked in the body read and the answer
            assertThat(client.send("POST", "/v1/credentials", "{\"name\":\"" + key + "\",\"privileges\":[\"premium:user:basemaps\"]}",
                    token).statusCode()).isEqualTo(201);
            assertThat(client.send("POST", "/v1/credentials/" + credentialId + "/keys",
                    "{\"slot\":1,\"expiresAt\":\"" + key + "\"}", token).statusCode()).isEqualTo(400);
            // a host name like any other to the pattern's rules (taken: the client's own data, shown back to it)
            assertThat(client.send("PUT", "/v1/credentials/" + credentialId + "/referrers",
                    "{\"referrers\":[\"https://" + key + ".example.com\"]}", token).statusCode()).isEqualTo(200);
        } finally {
            logging.setLogLevel("org.springframework.web", null);
        }
        // what it logs: the body read, the parse errors (so the check below reads lines that were written)
        assertThat(output.getAll()).as("Spring's web layer logged at DEBUG").contains("Read \"application/json")
                .contains("JSON parse error: Unrecognized token 'km_").contains("Resolved [");
        // as much of the secret as ApiKeys counts a key by
        assertThat(output.getAll()).as("log output at DEBUG")
                .doesNotContain(key.substring(20, 20 + ApiKeys.MASKED_FROM)).doesNotContain(key.substring(36, 52));
    }

    private JsonNode post(String path, Object body, String token) {
        HttpHeaders headers = new HttpHeaders();
        headers.setBearerAuth(token);
        headers.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> response = http.exchange(path, HttpMethod.POST, new HttpEntity<>(body, headers), String.class);
        assertThat(response.getStatusCode().value()).as(path + " " + response.getBody()).isEqualTo(201);
        return Json.mapper().readTree(response.getBody());
    }
}
