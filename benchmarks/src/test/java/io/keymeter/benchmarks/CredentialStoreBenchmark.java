package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Json;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.Health;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Key generation over HTTP, and invalidation-to-visible on {@code keymeter.api-keys} for a read_committed consumer
 * tailing the topic, on the embedded broker with the credential-store role alone. Baseline in the same run: an HTTP
 * read of the same credential (HTTP + interactive query, no Kafka round trip). Goal: p99 ≤ 50 ms for both.
 */
class CredentialStoreBenchmark {

    private static final int WARMUP = 30;
    private static final int ROUNDS = 300;
    private static final String TOKEN = "bench-token";

    @Test
    @Timeout(600)
    void keyGenerationAndInvalidationVisibility() throws Exception {
        ConfigurableApplicationContext app = new SpringApplicationBuilder(KeymeterApplication.class)
                // command-line arguments: they win over application.yml (server.port 8080 there)
                .run("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                        "--keymeter.data-dir=" + TempDirs.create("keymeter-bench"),
                        "--keymeter.roles=credential-store",
                        "--keymeter.accounts[0].id=bench",
                        "--keymeter.accounts[0].token=" + TOKEN,
                        "--keymeter.gateway-tokens[0]=bench-gateway",
                        "--server.port=0");
        AtomicBoolean tailing = new AtomicBoolean(true);
        Map<String, CompletableFuture<Long>> invalidatedSeen = new ConcurrentHashMap<>();
        Thread tail = new Thread(() -> tail(tailing, invalidatedSeen), "api-keys-tail");
        try {
            String base = "http://localhost:" + app.getEnvironment().getProperty("local.server.port");
            HttpClient http = HttpClient.newHttpClient();
            awaitUp(http, base);
            tail.start();

            // the first transaction of a fresh app can take longer than the 5 s reply deadline on a loaded machine
            String created = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> call(http,
                    base + "/v1/credentials", "POST", "{\"name\":\"bench\",\"privileges\":[\"premium:user:basemaps\"]}",
                    201), body -> body != null);
            String id = Json.mapper().readTree(created).get("id").asString();
            // a rebalance right after start answers reads with 503 for a moment: measure only a settled app
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> call(http, base + "/v1/credentials/" + id, "GET", null, 200), body -> body != null);
            String generateBody = "{\"slot\":1,\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(30)) + "\"}";

            long[] generate = new long[ROUNDS];
            long[] visible = new long[ROUNDS];
            long[] baseline = new long[ROUNDS];
            for (int i = -WARMUP; i < ROUNDS; i++) {
                long t0 = System.nanoTime();
                String issued = call(http, base + "/v1/credentials/" + id + "/keys", "POST", generateBody, 201);
                long t1 = System.nanoTime();
                String keyId = Json.mapper().readTree(issued).get("keyId").asString();
                CompletableFuture<Long> seen = invalidatedSeen.computeIfAbsent(keyId, k -> new CompletableFuture<>());

                long t2 = System.nanoTime();
                call(http, base + "/v1/credentials/" + id + "/keys/1/invalidate", "POST", null, 200);
                long seenAt = seen.get(10, TimeUnit.SECONDS);
                long t3 = System.nanoTime();
                call(http, base + "/v1/credentials/" + id, "GET", null, 200);
                long t4 = System.nanoTime();
                if (i >= 0) {
                    generate[i] = t1 - t0;
                    visible[i] = seenAt - t2;
                    baseline[i] = t4 - t3;
                }
            }
            report("credential-store.key-generation.http", generate);
            report("credential-store.invalidation-to-visible.api-keys", visible);
            report("credential-store.baseline.http-read", baseline);
            Figures.ratio("credential-store.key-generation.p99", Figures.percentile(generate, 99),
                    Figures.percentile(baseline, 99));
            Figures.ratio("credential-store.invalidation-to-visible.p99", Figures.percentile(visible, 99),
                    Figures.percentile(baseline, 99));
            assertThat(Figures.percentile(visible, 50)).isPositive();
        } finally {
            tailing.set(false);
            tail.join(10_000);
            app.close();
        }
    }

    private static void report(String name, long[] nanos) {
        Figures.print(name + ".p50", Figures.percentile(nanos, 50) / 1e6, "ms");
        Figures.print(name + ".p99", Figures.percentile(nanos, 99) / 1e6, "ms");
    }

    /** A downstream read_committed consumer: records when each key's invalidation becomes visible. */
    private static void tail(AtomicBoolean running, Map<String, CompletableFuture<Long>> seen) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        try (KafkaConsumer<String, ApiKeyState> consumer = new KafkaConsumer<>(config,
                Topics.API_KEYS.keySerde().deserializer(), Topics.API_KEYS.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.API_KEYS.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            while (running.get()) {
                for (ConsumerRecord<String, ApiKeyState> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.value() != null && r.value().status() == KeyStatus.INVALIDATED) {
                        long now = System.nanoTime();
                        seen.computeIfAbsent(r.key(), k -> new CompletableFuture<>()).complete(now);
                    }
                }
            }
        }
    }

    /** The overall status, not any component's: every topology RUNNING. */
    private static void awaitUp(HttpClient http, String base) {
        await().atMost(Duration.ofSeconds(120)).until(() -> Health.isUp(http.send(
                HttpRequest.newBuilder(URI.create(base + "/actuator/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body()));
    }

    private static String call(HttpClient http, String url, String method, String json, int expected) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(10));
        if (json != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
            throw new IllegalStateException(method + " " + url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }
}
