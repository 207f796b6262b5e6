package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Json;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.FreePorts;
import io.keymeter.testsupport.load.LoadGenerator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The broker stops in the middle of ingestion and comes back. Gateways see 503 and resend whole batches; in the
 * end every request is billed or refused exactly as the ledger says: no acknowledged line lost, none counted twice.
 */
@Timeout(600)
class BrokerRestartTest {

    private static final String GATEWAY = "restart-gateway-token";

    @TempDir
    Path dir;

    @Test
    void noAcknowledgedLineIsLostAndNoneIsCountedTwiceAcrossABrokerRestart() throws Exception {
        int port = FreePorts.next();
        Instant start = Instant.now().minus(5, ChronoUnit.DAYS).truncatedTo(ChronoUnit.HOURS);
        LoadGenerator.Scenario scenario = new LoadGenerator(new LoadGenerator.Settings(7, 2, 4, 12_000, start,
                Duration.ofDays(4), 0.03, 0.02)).generate();
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), port).start();
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(KeymeterApplication.class).run(
                "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(), "--keymeter.data-dir=" + dir.resolve("app"),
                "--server.port=0", "--keymeter.gateway-tokens[0]=" + GATEWAY,
                "--keymeter.accounts[0].id=restart", "--keymeter.accounts[0].token=restart-token",
                "--keymeter.roles=ingest,metering")) {
            int httpPort = ((WebServerApplicationContext) app).getWebServer().getPort();
            publishKeyStates(broker, scenario.keyStates());

            List<LoadGenerator.Request> requests = scenario.requests();
            int batch = 400;
            int batches = (requests.size() + batch - 1) / batch;
            int unavailable = 0;
            for (int b = 0; b < batches; b++) {
                if (b == batches / 3) {
                    broker.stop();
                }
                String body = ndjson(requests.subList(b * batch, Math.min(requests.size(), (b + 1) * batch)));
                if (b == batches / 3) {
                    // while the broker is down the batch is refused, never half-acknowledged
                    HttpResponse<String> refused = send(httpPort, body);
                    assertThat(refused.statusCode()).isEqualTo(503);
                    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
                    unavailable++;
                    broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), port).start();
                }
                HttpResponse<String> accepted = await("batch " + b + " accepted").atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(500)).until(() -> send(httpPort, body), r -> r.statusCode() == 202);
                assertThat(accepted.body()).contains("\"rejected\":[]");
            }
            assertThat(unavailable).isEqualTo(1);

            String bootstrap = broker.bootstrapServers();
            await("metering matches the ledger").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
                    .untilAsserted(() -> assertThat(scenario.ledger().differencesOn(bootstrap, 20)).isEmpty());
        } finally {
            broker.stop();
        }
    }

    private static void publishKeyStates(EmbeddedKafkaBroker broker, List<ApiKeyState> states) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, ApiKeyState> producer = new KafkaProducer<>(config, new StringSerializer(),
                Topics.API_KEYS.valueSerde().serializer())) {
            for (ApiKeyState state : states) {
                producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, state.updatedAt().toEpochMilli(),
                        state.keyId(), state));
            }
        }
    }

    private static String ndjson(List<LoadGenerator.Request> requests) {
        StringBuilder out = new StringBuilder();
        for (LoadGenerator.Request r : requests) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("requestId", r.log().requestId());
            line.put("apiKey", r.apiKey());
            line.put("service", r.log().service());
            line.put("operation", r.log().operation());
            line.put("units", r.log().units());
            if (r.log().itemId() != null) {
                line.put("itemId", r.log().itemId());
            }
            if (r.log().referrer() != null) {
                line.put("referrer", r.log().referrer());
            }
            line.put("timestamp", r.log().timestamp().toString());
            out.append(Json.mapper().writeValueAsString(line)).append('\n');
        }
        return out.toString();
    }

    private static HttpResponse<String> send(int port, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/requests"))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + GATEWAY)
                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
