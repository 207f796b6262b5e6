package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.core5.http.ContentType;

/**
 * {@code POST /v1/verify} at a fixed rate, interleaved with {@code GET /actuator/info} (an empty JSON object: the
 * HTTP stack alone) at the same rate over the same client, in rounds after an unreported warm-up. Runs in the
 * benchmark's JVM, beside the app and broker, or on its own in a child JVM ({@link #main}), so the client's
 * allocations, GC and JIT stay out of the server's process.
 * <p>
 * {@code -Dverify.rate=} (default 2000), {@code -Dverify.seconds=} measured seconds per run (default 20),
 * {@code -Drounds=} interleaved rounds of baseline and verify (default 2), {@code -Dverify.connections=} (default 8).
 */
final class VerifyLoad {

    private static final int RATE = Integer.getInteger("verify.rate", 2_000);
    private static final Duration WARMUP = Duration.ofSeconds(5);
    private static final Duration MEASURE = Duration.ofSeconds(Integer.getInteger("verify.seconds", 20));
    private static final int ROUNDS = Integer.getInteger("rounds", 2);
    private static final int CONNECTIONS = Integer.getInteger("verify.connections", 8);

    private VerifyLoad() {
    }

    /**
     * Args: the app's base URL, the gateway token, a file of API keys (one a line, deleted once read), and the
     * prefix of every figure's name. Exits non-zero when an answer was wrong.
     */
    public static void main(String[] args) throws Exception {
        Path keyFile = Path.of(args[2]);
        List<String> apiKeys = Files.readAllLines(keyFile, StandardCharsets.UTF_8);
        Files.delete(keyFile);
        run(args[0], args[1], apiKeys, args[3], args.length > 4 ? args[4] : null);
        System.exit(0); // the async client's threads must not keep the JVM alive
    }

    /** {@code raw}: the URL of a bare HTTP server's endpoint in the app's JVM, run as a third baseline; may be null. */
    static void run(String base, String gatewayToken, List<String> apiKeys, String label, String raw)
            throws Exception {
        Random random = new Random(7);
        URI verify = URI.create(base + "/v1/verify");
        URI info = URI.create(base + "/actuator/info");
        URI bare = raw == null ? null : URI.create(raw);
        try (OpenLoopLoad load = new OpenLoopLoad(CONNECTIONS)) {
            // JIT warm-up of server and client at the same rate, not reported: a cold first round fell behind
            load.run("warm-up", RATE, WARMUP, WARMUP, i -> SimpleRequestBuilder.get(info).build(), answer -> true);
            load.run("warm-up", RATE, WARMUP, WARMUP,
                    i -> request(verify, gatewayToken, apiKeys.get(random.nextInt(apiKeys.size()))), answer -> true);
            for (int round = 1; round <= ROUNDS; round++) {
                OpenLoopLoad.Result trivial = load.run(label + "round " + round + " http-info", RATE, WARMUP, MEASURE,
                        i -> SimpleRequestBuilder.get(info).build(), answer -> answer.getCode() == 200);
                OpenLoopLoad.Result verified = load.run(label + "round " + round + " verify", RATE, WARMUP, MEASURE,
                        i -> request(verify, gatewayToken, apiKeys.get(random.nextInt(apiKeys.size()))),
                        answer -> answer.getCode() == 200 && answer.getBodyText().contains("\"valid\":true"));
                if (raw != null) {
                    load.run(label + "round " + round + " http-raw", RATE, WARMUP, MEASURE,
                            i -> SimpleRequestBuilder.get(bare).build(), answer -> answer.getCode() == 200)
                            .print();
                }
                trivial.print();
                verified.print();
                ratio(label + "round " + round + " verify / http-info, response p50", verified.responseTime(),
                        trivial.responseTime(), 50);
                ratio(label + "round " + round + " verify / http-info, response p99", verified.responseTime(),
                        trivial.responseTime(), 99);
                assertThat(trivial.failed()).as("GET /actuator/info answered other than 200").isZero();
                assertThat(verified.failed()).as("verify answers other than valid").isZero();
            }
        }
    }

    private static SimpleHttpRequest request(URI verify, String gatewayToken, String apiKey) {
        return SimpleRequestBuilder.post(verify).addHeader("Authorization", "Bearer " + gatewayToken)
                .setBody("{\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\"}", ContentType.APPLICATION_JSON)
                .build();
    }

    private static void ratio(String name, Histogram value, Histogram baseline, double percentile) {
        Figures.ratio(name, value.getValueAtPercentile(percentile), baseline.getValueAtPercentile(percentile));
    }
}
