package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Topics;
import io.keymeter.kafka.FreePorts;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.testsupport.ConsumerGroups;
import io.keymeter.testsupport.Health;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

/**
 * Memory of the metering role holding 1,000,000 API keys: 1M key states pre-loaded on {@code keymeter.api-keys}
 * (6 partitions, compacted), then the metering role in a child JVM (so its RSS is its own; the broker stays in this
 * JVM), measured once the verify cache has caught up and Kafka Streams has committed every key state into its
 * versioned store: RSS, heap used after a full GC, RocksDB's own figures, and which classes grew. Baseline in the
 * same run: the same app over the first 10,000 of those keys.
 * <p>
 * JVM flags: {@code -Dmemory.jvm=} (default: what the Docker image, {@code -XX:MaxRAMPercentage=60}, gives in a
 * 2 GiB container, with G1). {@code -Dmemory.keys=} (default 1,000,000).
 */
class MemoryBenchmark {

    private static final int PARTITIONS = 6;
    private static final int BASELINE_KEYS = 10_000;
    private static final int KEYS = Integer.getInteger("memory.keys", 1_000_000);
    private static final List<String> JVM = List.of(System.getProperty("memory.jvm",
            "-XX:+UseG1GC -XX:MaxRAM=2g -XX:MaxRAMPercentage=60").split(" "));
    private static final String GATEWAY_TOKEN = "bench-gateway-token";
    private static final String METERING_GROUP = "keymeter-metering";
    private static final Pattern CAUGHT_UP = Pattern.compile("Verify cache caught up with \\S+: (\\d+) keys");
    private static final Pattern HISTOGRAM_ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
    /** RocksDB's memory figures as Kafka Streams reports them, per store, on /actuator/prometheus. */
    private static final List<String> ROCKSDB = List.of("block_cache_usage", "block_cache_pinned_usage",
            "block_cache_capacity", "cur_size_all_mem_tables", "size_all_mem_tables", "estimate_table_readers_mem",
            "estimate_num_keys", "total_sst_files_size");

    private final String bootstrap = SharedKafka.bootstrapServers();
    private final HttpClient http = HttpClient.newHttpClient();

    /** What one app measured. */
    private record Footprint(int keys, double readySeconds, double catchUpSeconds, double loadedSeconds,
                             long cacheKeys, long rss,
                             long rssAfterGc, long heapUsedAfterGc, long heapCommitted, long nonHeapUsed,
                             Map<String, Double> rocksdb, Map<String, long[]> classes) {
    }

    @Test
    void memoryAtOneMillionKeys() throws Exception {
        Path dir = TempDirs.create("memory-bench");
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), PARTITIONS, (short) 1)
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, Topics.API_KEYS.cleanupPolicy())))).all().get();
        }
        AtomicReference<ApiKeys.GeneratedKey> last = new AtomicReference<>();
        KeyStates.publish(bootstrap, 0, BASELINE_KEYS, last::set);
        Footprint small = measure(dir, "10k", BASELINE_KEYS, last.get());

        long start = System.nanoTime();
        KeyStates.publish(bootstrap, BASELINE_KEYS, KEYS - BASELINE_KEYS, last::set);
        Figures.print("memory.preload.key-states", KEYS - BASELINE_KEYS, "records");
        Figures.print("memory.preload.rate", (KEYS - BASELINE_KEYS) / ((System.nanoTime() - start) / 1e9), "records/s");
        Footprint large = measure(dir, "1m", KEYS, last.get());

        print("10k", small);
        print("1m", large);
        double added = large.keys() - small.keys();
        Figures.ratio("memory.rss 1m / 10k", large.rss(), small.rss());
        Figures.print("memory.rss per added key", (large.rss() - small.rss()) / added, "bytes");
        Figures.print("memory.rss-after-gc per added key", (large.rssAfterGc() - small.rssAfterGc()) / added, "bytes");
        Figures.print("memory.heap-after-gc per added key", (large.heapUsedAfterGc() - small.heapUsedAfterGc()) / added,
                "bytes");
        Figures.print("memory.catch-up 1m - 10k", large.catchUpSeconds() - small.catchUpSeconds(), "s");
        Figures.print("memory.catch-up rate 1m", large.keys() / large.catchUpSeconds(), "keys/s");
        classGrowth(small, large, added);
        assertThat(small.cacheKeys()).as("verify cache at 10k").isEqualTo(BASELINE_KEYS);
        assertThat(large.cacheKeys()).as("verify cache at 1m").isEqualTo(KEYS);
    }

    private Footprint measure(Path dir, String label, int keys, ApiKeys.GeneratedKey probe) throws Exception {
        int port = FreePorts.next();
        Path log = dir.resolve("app-" + label + ".log");
        String base = "http://localhost:" + port;
        try (ChildJvm app = ChildJvm.start(log, JVM, KeymeterApplication.class.getName(), List.of(
                "--keymeter.roles=metering",
                "--spring.kafka.bootstrap-servers=" + bootstrap,
                "--keymeter.data-dir=" + dir.resolve("app-" + label),
                "--server.port=" + port,
                "--keymeter.gateway-tokens[0]=" + GATEWAY_TOKEN,
                "--keymeter.accounts[0].id=bench",
                "--keymeter.accounts[0].token=bench-account-token"))) {
            // the verify cache answers 503 until it has read everything that was on the topic at its start; the
            // web server starts just before the cache, so its first answer marks the start of the catch-up
            long firstAnswer = awaitVerifyValid(app, base, probe);
            long readyAt = System.nanoTime();
            double ready = (readyAt - app.startedNanos) / 1e9;
            awaitStoreLoaded(app, base);
            double loaded = (System.nanoTime() - app.startedNanos) / 1e9;
            awaitRocksDbMetrics(app, base);
            // RSS right after the catch-up still moves (garbage, the collector giving heap back): read once settled
            long rss = app.settledRssBytes(Duration.ofSeconds(5));
            Map<String, long[]> classes = classHistogram(app.pid()); // a full GC first, then the live objects
            long rssAfterGc = app.settledRssBytes(Duration.ofSeconds(2));
            String metrics = get(base + "/actuator/prometheus");
            Map<String, Double> rocksdb = new TreeMap<>();
            for (String name : ROCKSDB) {
                List<Double> perStore = values(metrics, "kafka_stream_state_" + name, "");
                // one block cache is shared by every store: each store reports the same cache
                boolean shared = name.startsWith("block_cache");
                rocksdb.put(name, shared ? perStore.stream().mapToDouble(d -> d).max().orElse(Double.NaN)
                        : perStore.stream().mapToDouble(d -> d).sum());
                rocksdb.put(name + " (stores)", (double) perStore.size());
            }
            return new Footprint(keys, ready, (readyAt - firstAnswer) / 1e9, loaded,
                    cacheKeys(log), rss, rssAfterGc, sum(metrics, "jvm_memory_used_bytes", "area=\"heap\""),
                    sum(metrics, "jvm_memory_committed_bytes", "area=\"heap\""),
                    sum(metrics, "jvm_memory_used_bytes", "area=\"nonheap\""), rocksdb, classes);
        }
    }

    private void print(String label, Footprint f) {
        String p = "memory." + label + ".";
        Figures.print(p + "keys on the topic", f.keys(), "keys");
        Figures.print(p + "verify cache keys (log)", f.cacheKeys(), "keys");
        Figures.print(p + "launch -> verify ready (cache caught up)", f.readySeconds(), "s");
        Figures.print(p + "first HTTP answer -> verify ready (catch-up)", f.catchUpSeconds(), "s");
        Figures.print(p + "launch -> versioned store loaded", f.loadedSeconds(), "s");
        Figures.print(p + "rss", f.rss() / 1048576.0, "MiB");
        Figures.print(p + "rss after full gc", f.rssAfterGc() / 1048576.0, "MiB");
        Figures.print(p + "heap used after full gc", f.heapUsedAfterGc() / 1048576.0, "MiB");
        Figures.print(p + "heap committed", f.heapCommitted() / 1048576.0, "MiB");
        Figures.print(p + "non-heap used", f.nonHeapUsed() / 1048576.0, "MiB");
        f.rocksdb().forEach((name, value) -> Figures.print(p + "rocksdb " + name,
                name.endsWith("(stores)") || name.contains("num_keys") ? value : value / 1048576.0,
                name.endsWith("(stores)") ? "stores" : name.contains("num_keys") ? "keys" : "MiB"));
    }

    /** The classes whose live bytes grew most from 10k to 1M keys, per added key. */
    private static void classGrowth(Footprint small, Footprint large, double added) {
        List<Map.Entry<String, long[]>> growth = new ArrayList<>();
        large.classes().forEach((name, counts) -> {
            long[] before = small.classes().getOrDefault(name, new long[2]);
            growth.add(Map.entry(name, new long[] {counts[0] - before[0], counts[1] - before[1]}));
        });
        growth.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        long total = 0;
        for (Map.Entry<String, long[]> e : growth.subList(0, Math.min(10, growth.size()))) {
            Figures.print("memory.live per added key: " + e.getKey(), e.getValue()[1] / added,
                    String.format(java.util.Locale.ROOT, "bytes (%.2f objects)", e.getValue()[0] / added));
        }
        for (Map.Entry<String, long[]> e : growth) {
            total += e.getValue()[1];
        }
        Figures.print("memory.live per added key: all classes", total / added, "bytes");
    }

    /** Polls {@code /v1/verify} until it answers valid for {@code probe}; returns when it first answered at all. */
    private long awaitVerifyValid(ChildJvm app, String base, ApiKeys.GeneratedKey probe) throws Exception {
        HttpRequest verify = HttpRequest.newBuilder(URI.create(base + "/v1/verify"))
                .header("Authorization", "Bearer " + GATEWAY_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"apiKey\":\"" + probe.apiKey() + "\",\"service\":\"basemaps\"}"))
                .timeout(Duration.ofSeconds(5)).build();
        long[] firstAnswer = {0};
        await(app, "the verify cache catches up", () -> {
            HttpResponse<String> answer = http.send(verify, HttpResponse.BodyHandlers.ofString());
            if (firstAnswer[0] == 0) {
                firstAnswer[0] = System.nanoTime();
            }
            return answer.statusCode() == 200 && answer.body().contains("\"valid\":true");
        });
        return firstAnswer[0];
    }

    /** The metering application has committed every key state (into its versioned store) and health is UP. */
    private void awaitStoreLoaded(ChildJvm app, String base) throws Exception {
        try (Admin admin = admin()) {
            long end = KafkaTopics.endOffsets(admin, List.of(Topics.API_KEYS.name()), IsolationLevel.READ_UNCOMMITTED,
                    Duration.ofSeconds(30)).values().stream().mapToLong(Long::longValue).sum();
            await(app, "metering commits every key state",
                    () -> ConsumerGroups.committed(admin, METERING_GROUP, Topics.API_KEYS.name()) >= end);
        }
        await(app, "health UP", () -> Health.isUp(get(base + "/actuator/health")));
    }

    /** Micrometer binds new Kafka metrics (the stores') on a refresh, up to a minute after they appear. */
    private void awaitRocksDbMetrics(ChildJvm app, String base) throws Exception {
        await(app, "RocksDB metrics on /actuator/prometheus",
                () -> !values(get(base + "/actuator/prometheus"), "kafka_stream_state_size_all_mem_tables", "").isEmpty());
    }

    private interface Check {
        boolean done() throws Exception;
    }

    private static void await(ChildJvm app, String what, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (true) {
            assertThat(app.isAlive()).as("the app is alive while waiting until " + what).isTrue();
            try {
                if (check.done()) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            assertThat(System.nanoTime()).as(what + " within 15 minutes").isLessThan(deadline);
            Thread.sleep(50); // poll; a spin would steal a core from the JVM being measured
        }
    }

    private String get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Every sample of a Prometheus metric (exact name) whose labels contain {@code labels}. */
    private static List<Double> values(String text, String metric, String labels) {
        List<Double> found = new ArrayList<>();
        for (String line : text.split("\n")) {
            if ((line.startsWith(metric + "{") || line.startsWith(metric + " ")) && line.contains(labels)) {
                found.add(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return found;
    }

    private static long sum(String text, String metric, String labels) {
        return (long) values(text, metric, labels).stream().mapToDouble(d -> d).sum();
    }

    /** {@code jcmd GC.class_histogram}: a full GC, then instances and bytes per live class. */
    private static Map<String, long[]> classHistogram(long pid) throws Exception {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
        Map<String, long[]> classes = new HashMap<>();
        for (String line : new String(jcmd.getInputStream().readAllBytes()).split("\n")) {
            Matcher m = HISTOGRAM_ROW.matcher(line);
            if (m.find()) {
                classes.merge(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))},
                        (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
            }
        }
        assertThat(jcmd.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(classes).as("class histogram of " + pid).isNotEmpty();
        return classes;
    }

    private static long cacheKeys(Path log) throws Exception {
        Matcher m = CAUGHT_UP.matcher(Files.readString(log));
        long keys = -1;
        while (m.find()) {
            keys = Long.parseLong(m.group(1));
        }
        return keys;
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }
}
