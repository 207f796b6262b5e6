package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.HdrHistogram.Histogram;

/**
 * {@code POST /v1/verify} at a fixed rate, interleaved with {@code GET /actuator/info} (an empty JSON object: the
 * HTTP stack alone) at the same rate over the same client, in rounds after an unreported warm-up. Runs in the
 * benchmark's JVM, beside the app and broker, or on its own in a child JVM ({@link #main}), so the client's
 * allocations, GC and JIT stay out of the server's process.
 * <p>
 * {@code -Dverify.rate=} (default 2000), {@code -Dverify.seconds=} measured seconds per run (default 20),
 * {@code -Drounds=} interleaved rounds of baseline and verify (default 2), {@code -Dverify.connections=} (default 8),
 * {@code -Dverify.load=blocking|async|both} the load client (default blocking, see {@link LoadClient}; with both,
 * each round runs every endpoint with one client, then with the other, and figure names carry the client's name).
 */
final class VerifyLoad {

    private static final int RATE = Integer.getInteger("verify.rate", 2_000);
    private static final Duration WARMUP = Duration.ofSeconds(5);
    private static final Duration MEASURE = Duration.ofSeconds(Integer.getInteger("verify.seconds", 20));
    /** {@code -Dbench.rounds}, as the other benchmarks; {@code -Drounds}, which earlier runs used, still read. */
    private static final int ROUNDS = Integer.getInteger("bench.rounds", Integer.getInteger("rounds", 2));
    private static final int CONNECTIONS = Integer.getInteger("verify.connections", 8);
    private static final String LOAD = System.getProperty("verify.load", "blocking");

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
        Map<String, LoadClient> loads = clients();
        try {
            for (LoadClient load : loads.values()) {
                // JIT warm-up of server and client at the same rate, not reported: a cold first round fell behind
                load.run("warm-up", RATE, WARMUP, WARMUP, i -> LoadClient.Call.get(info), answer -> true);
                load.run("warm-up", RATE, WARMUP, WARMUP,
                        i -> verifyCall(verify, gatewayToken, apiKeys.get(random.nextInt(apiKeys.size()))),
                        answer -> true);
            }
            for (int round = 1; round <= ROUNDS; round++) {
                List<Map.Entry<String, LoadClient>> order = new ArrayList<>(loads.entrySet());
                if (round % 2 == 0) {
                    Collections.reverse(order); // with both clients, neither always runs first
                }
                for (Map.Entry<String, LoadClient> client : order) {
                    String name = label + (loads.size() > 1 ? client.getKey() + " " : "") + "round " + round;
                    runRound(client.getValue(), name, verify, info, bare, gatewayToken, apiKeys, random);
                }
            }
        } finally {
            for (LoadClient load : loads.values()) {
                load.close();
            }
        }
    }

    private static Map<String, LoadClient> clients() {
        List<String> kinds = LOAD.equals("both") ? List.of("blocking", "async") : List.of(LOAD);
        Map<String, LoadClient> clients = new LinkedHashMap<>();
        for (String kind : kinds) {
            clients.put(kind, switch (kind) {
                case "blocking" -> new BlockingOpenLoopLoad(CONNECTIONS);
                case "async" -> new OpenLoopLoad(CONNECTIONS);
                default -> throw new IllegalArgumentException("verify.load must be blocking, async or both: " + kind);
            });
        }
        return clients;
    }

    private static void runRound(LoadClient load, String name, URI verify, URI info, URI bare, String gatewayToken,
                                 List<String> apiKeys, Random random) throws InterruptedException {
        List<LoadClient.Result> results = new ArrayList<>();
        LoadClient.Result trivial = load.run(name + " http-info", RATE, WARMUP, MEASURE,
                i -> LoadClient.Call.get(info), answer -> answer.code() == 200);
        LoadClient.Result verified = load.run(name + " verify", RATE, WARMUP, MEASURE,
                i -> verifyCall(verify, gatewayToken, apiKeys.get(random.nextInt(apiKeys.size()))),
                answer -> answer.code() == 200 && answer.body().contains("\"valid\":true"));
        if (bare != null) {
            results.add(load.run(name + " http-raw", RATE, WARMUP, MEASURE,
                    i -> LoadClient.Call.get(bare), answer -> answer.code() == 200));
        }
        results.add(trivial);
        results.add(verified);
        results.forEach(LoadClient.Result::print);
        ratio(name + " verify / http-info, response p50", verified.responseTime(), trivial.responseTime(), 50);
        ratio(name + " verify / http-info, response p99", verified.responseTime(), trivial.responseTime(), 99);
        assertThat(trivial.failed()).as("GET /actuator/info answered other than 200").isZero();
        assertThat(verified.failed()).as("verify answers other than valid").isZero();
    }

    private static LoadClient.Call verifyCall(URI verify, String gatewayToken, String apiKey) {
        return new LoadClient.Call(verify, gatewayToken, "{\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\"}");
    }

    private static void ratio(String name, Histogram value, Histogram baseline, double percentile) {
        Figures.ratio(name, value.getValueAtPercentile(percentile), baseline.getValueAtPercentile(percentile));
    }
}
