package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Json;
import io.keymeter.metering.verify.KeyStateCache;
import io.keymeter.metering.verify.Verifier;
import io.keymeter.metering.verify.VerifyRequest;
import io.keymeter.testsupport.SharedKafka;
import com.sun.net.httpserver.HttpServer;
import io.keymeter.testsupport.TempDirs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code POST /v1/verify} at a fixed 2,000 requests/s (open loop, see {@link LoadClient}) and the propagation of an
 * invalidation to {@code /v1/verify}, end to end, on one app with the credential-store and metering roles.
 * <p>
 * Baselines in the same run: the verify decision in process ({@link Verifier#verify}, no HTTP), and an HTTP round
 * trip of a trivial endpoint ({@code GET /actuator/info}, an empty JSON object; a 404 would log a warning per
 * request) at the same rate over the same client, so the cost of the HTTP stack itself is visible.
 * <p>
 * Invalidation: from the moment {@code POST …/keys/{slot}/invalidate} returns to the first {@code /v1/verify}
 * answering {@code invalidated}, polling in a tight loop.
 * <p>
 * The load ({@link VerifyLoad}, its settings are there) runs first from this JVM, beside the app and the broker, then
 * from a JVM of its own ({@code -Dverify.client=same-jvm|child|both}, default both): figures of the second are
 * prefixed {@code separate-jvm client:}.
 */
class VerifyBenchmark {

    private static final int KEYS = 10_000;
    /** {@code same-jvm}, {@code child} or {@code both} (default): where the load client runs. */
    private static final String CLIENT = System.getProperty("verify.client", "both");
    private static final int PROPAGATION_WARMUP = 20;
    private static final int PROPAGATIONS = 200;
    private static final String GATEWAY_TOKEN = "bench-gateway-token";
    private static final String ACCOUNT_TOKEN = "bench-account-token";

    private final List<ApiKeys.GeneratedKey> keys = new ArrayList<>();

    @Test
    void verifyLatencyAndInvalidationPropagation() throws Exception {
        String bootstrap = SharedKafka.bootstrapServers();
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(KeymeterApplication.class)
                // command-line arguments: they win over application.yml (server.port 8080 there)
                .run("--spring.kafka.bootstrap-servers=" + bootstrap,
                        "--keymeter.data-dir=" + TempDirs.create("keymeter-verify-bench"),
                        "--keymeter.roles=credential-store,metering",
                        "--keymeter.accounts[0].id=bench",
                        "--keymeter.accounts[0].token=" + ACCOUNT_TOKEN,
                        "--keymeter.gateway-tokens[0]=" + GATEWAY_TOKEN,
                        "--server.port=0",
                        "--logging.level.root=WARN")) {
            String base = "http://localhost:" + app.getEnvironment().getProperty("local.server.port");
            KeyStates.publish(bootstrap, 0, KEYS, keys::add); // the app has created the topics by now
            KeyStateCache cache = app.getBean(KeyStateCache.class);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> cache.current() && cache.size() >= KEYS);
            Figures.print("verify.cache.keys", cache.size(), "keys");

            HttpServer raw = rawServer();
            try {
                verifyLatency(base, "http://127.0.0.1:" + raw.getAddress().getPort() + "/raw");
            } finally {
                raw.stop(0);
            }
            verifyInProcess(app.getBean(Verifier.class));
            invalidationPropagation(base);
        }
    }

    // --- /v1/verify at a fixed rate -------------------------------------------------------------------------------

    /** The load client in this JVM (beside app and broker), then in a JVM of its own; {@code -Dverify.client=}. */
    private void verifyLatency(String base, String raw) throws Exception {
        List<String> apiKeys = keys.stream().map(ApiKeys.GeneratedKey::apiKey).toList();
        if (!CLIENT.equals("child")) {
            VerifyLoad.run(base, GATEWAY_TOKEN, apiKeys, "", raw);
        }
        if (!CLIENT.equals("same-jvm")) {
            verifyLatencyFromChildJvm(base, apiKeys, raw);
        }
    }

    /**
     * The floor under any endpoint of this JVM: the JDK's bare HTTP server answering {@code {}} on its dispatcher
     * thread (no servlet container, no hand-off to a worker thread), beside the app, the broker and the topologies.
     */
    private static HttpServer rawServer() throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true"); // as Tomcat: no Nagle delay on small answers
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        server.createContext("/raw", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    /** The same rounds from a child JVM: the client's garbage, GC pauses and JIT no longer stop the server's JVM. */
    private static void verifyLatencyFromChildJvm(String base, List<String> apiKeys, String raw) throws Exception {
        Path dir = TempDirs.create("keymeter-verify-client");
        Path keyFile = Files.write(dir.resolve("keys"), apiKeys, StandardCharsets.UTF_8); // the child deletes it
        Path log = dir.resolve("client.log");
        List<String> jvm = System.getProperties().stringPropertyNames().stream()
                .filter(name -> name.startsWith("verify.") || name.equals("rounds") || name.equals("bench.rounds"))
                .map(name -> "-D" + name + "=" + System.getProperty(name)).collect(Collectors.toList());
        jvm.add("-Xmx512m");
        try (ChildJvm client = ChildJvm.start(log, jvm, VerifyLoad.class.getName(),
                List.of(base, GATEWAY_TOKEN, keyFile.toString(), "separate-jvm client: ", raw))) {
            int exit = client.waitFor(Duration.ofMinutes(10));
            Files.readAllLines(log).stream().filter(line -> line.startsWith("BENCH ")).forEach(System.out::println);
            assertThat(exit).as("the client JVM's exit code (its log: %s)", log).isZero();
        } finally {
            Files.deleteIfExists(keyFile);
        }
    }

    /** The verify decision itself (key parse and hash, cache lookup, validator), without HTTP. */
    private void verifyInProcess(Verifier verifier) {
        Random random = new Random(11);
        int total = 200_000;
        int warmup = 50_000;
        long[] samples = new long[total - warmup];
        for (int i = 0; i < total; i++) {
            VerifyRequest request = new VerifyRequest(keys.get(random.nextInt(KEYS)).apiKey(), "basemaps", null, null);
            long start = System.nanoTime();
            boolean valid = verifier.verify(request).valid();
            long took = System.nanoTime() - start;
            assertThat(valid).isTrue();
            if (i >= warmup) {
                samples[i - warmup] = took;
            }
        }
        Figures.print("verify.in-process.p50", Figures.percentile(samples, 50) / 1e3, "us");
        Figures.print("verify.in-process.p99", Figures.percentile(samples, 99) / 1e3, "us");
        Figures.print("verify.in-process.p99.9", Figures.percentile(samples, 99.9) / 1e3, "us");
    }

    // --- invalidation, end to end -----------------------------------------------------------------------------------

    /**
     * Per round: a new key on slot 1 over HTTP (its 201 carries the plaintext key), wait until {@code /v1/verify}
     * answers valid, then {@code POST …/keys/1/invalidate}; from the moment that returns, {@code /v1/verify} in a
     * tight loop until it answers {@code invalidated}. One sequential connection (the JDK client) for all of it.
     */
    private void invalidationPropagation(String base) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        // the first transaction of a fresh credential store can take longer than its 5 s reply deadline when loaded
        String created = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> call(http,
                base + "/v1/credentials", "{\"name\":\"bench\",\"privileges\":[\"premium:user:basemaps\"]}", 201),
                body -> body != null);
        String id = Json.mapper().readTree(created).get("id").asString();
        String generate = "{\"slot\":1,\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(30)) + "\"}";
        long[] propagation = new long[PROPAGATIONS];
        long[] invalidateCall = new long[PROPAGATIONS];
        long[] newKeyVisible = new long[PROPAGATIONS];
        long polls = 0;
        for (int i = -PROPAGATION_WARMUP; i < PROPAGATIONS; i++) {
            String apiKey = Json.mapper().readTree(call(http, base + "/v1/credentials/" + id + "/keys", generate, 201))
                    .get("apiKey").asString();
            long issued = System.nanoTime();
            long valid = pollVerify(http, base, apiKey, "\"valid\":true", issued);
            long before = System.nanoTime();
            call(http, base + "/v1/credentials/" + id + "/keys/1/invalidate", null, 200);
            long returned = System.nanoTime();
            long seen = pollVerify(http, base, apiKey, "\"reason\":\"invalidated\"", returned);
            if (i >= 0) {
                propagation[i] = seen - returned;
                invalidateCall[i] = returned - before;
                newKeyVisible[i] = valid - issued;
            }
        }
        report("verify.invalidation-propagation", propagation); // invalidate returned -> verify answers invalidated
        report("verify.invalidate-call", invalidateCall); // the POST .../invalidate round trip itself
        report("verify.new-key-visible", newKeyVisible); // key generation 201 returned -> verify answers valid
    }

    /** Calls {@code /v1/verify} back to back until the answer contains {@code expected}; the time it did. */
    private static long pollVerify(HttpClient http, String base, String apiKey, String expected, long from)
            throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/verify"))
                .header("Authorization", "Bearer " + GATEWAY_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\"}"))
                .build();
        long deadline = from + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (answer.body().contains(expected)) {
                return System.nanoTime();
            }
            assertThat(System.nanoTime()).as("/v1/verify answers " + expected + " within 30 s").isLessThan(deadline);
        }
    }

    private static void report(String name, long[] nanos) {
        Figures.print(name + " p50", Figures.percentile(nanos, 50) / 1e6, "ms");
        Figures.print(name + " p99", Figures.percentile(nanos, 99) / 1e6, "ms");
        Figures.print(name + " max", Figures.percentile(nanos, 100) / 1e6, "ms");
    }

    private static String call(HttpClient http, String url, String json, int expected) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + ACCOUNT_TOKEN).timeout(Duration.ofSeconds(10));
        request.POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
            throw new IllegalStateException("POST " + url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }
}
