package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.Topics;
import io.keymeter.kafka.FreePorts;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.ConsumerGroups;
import io.keymeter.testsupport.TempDirs;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;

/**
 * Time to health UP after {@code kill -9} with state to keep: the metering role on the embedded broker meters
 * {@code -Dbench.requests} requests (default 1M; one dedupe entry each), is killed once every request is committed,
 * and is started again on the same data. Measured with transactional state stores (Keymeter's default: the stores
 * keep their committed state) and, as the baseline in the same run, without them (exactly-once then wipes every
 * store and restores it from its changelog).
 */
class RecoveryBenchmark {

    private static final long REQUESTS = Long.getLong("bench.requests", 1_000_000);
    private static final List<String> JVM = List.of("-XX:+UseG1GC", "-Xmx2g");
    private static final String METERING_GROUP = StreamsFactory.applicationId(MeteringConfiguration.APP_NAME);
    private static final String DEDUPE_CHANGELOG = StreamsFactory.changelogTopic(MeteringConfiguration.APP_NAME,
            MeteringTopology.DEDUPE_STORE);

    @Test
    void restartAfterKillWithAndWithoutTransactionalStores() throws Exception {
        Path dir = TempDirs.create("recovery-bench");
        double wiped = restartSeconds(dir.resolve("wiped"), false);
        double kept = restartSeconds(dir.resolve("kept"), true);
        Figures.ratio("recovery: transactional stores / wipe and restore", kept, wiped);
    }

    private double restartSeconds(Path dataDir, boolean transactional) throws Exception {
        String mode = transactional ? "transactional stores" : "wipe and restore";
        int httpPort = FreePorts.next();
        int brokerPort = FreePorts.next();
        List<String> args = List.of("--keymeter.data-dir=" + dataDir, "--keymeter.roles=metering",
                "--keymeter.embedded-kafka.port=" + brokerPort, "--server.port=" + httpPort,
                "--spring.kafka.streams.properties.enable.transactional.statestores=" + transactional);
        Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        try (ChildJvm app = ChildJvm.start(log, JVM, KeymeterApplication.class.getName(), args)) {
            app.awaitHealthUp(httpPort);
            Map<String, Object> client = clientProperties(dataDir); // the embedded broker takes only a signed-in client
            sendRequests(client);
            try (Admin admin = Admin.create(client)) {
                awaitEverythingCommitted(admin);
                Figures.print("recovery " + mode + ": dedupe changelog records", endOffsetSum(admin, DEDUPE_CHANGELOG,
                        IsolationLevel.READ_COMMITTED), "records");
            }
            app.kill();
        }
        try (ChildJvm app = ChildJvm.start(log, JVM, KeymeterApplication.class.getName(), args)) {
            app.awaitHealthUp(httpPort);
            double seconds = (System.nanoTime() - app.startedNanos) / 1e9;
            Figures.print("recovery " + mode + ": kill -9 → health UP", seconds, "s");
            return seconds;
        }
    }

    /** Distinct request ids spread over the last hour, on keys the app does not know: each is judged and deduped. */
    private static void sendRequests(Map<String, Object> client) {
        Instant start = Instant.now().minus(Duration.ofHours(1));
        Map<String, Object> producer = new java.util.HashMap<>(client);
        producer.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
        producer.putAll(Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"));
        SyntheticRequests.send((String) client.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG), producer,
                REQUESTS, "req-", i -> start.plusMillis(i * 3_000_000 / REQUESTS));
    }

    /** The embedded broker's address and sign-in, as the app keeps them in its data dir. */
    private static Map<String, Object> clientProperties(Path dataDir) throws java.io.IOException {
        java.util.Properties kept = new java.util.Properties();
        try (var in = java.nio.file.Files.newInputStream(dataDir.resolve("kafka-client.properties"))) {
            kept.load(in);
        }
        Map<String, Object> client = new java.util.HashMap<>();
        kept.forEach((key, value) -> client.put((String) key, value));
        return client;
    }

    /** Every partition's committed offset has reached its end (a committed offset never passes its end). */
    private static void awaitEverythingCommitted(Admin admin) throws Exception {
        long end = endOffsetSum(admin, Topics.REQUESTS.name(), IsolationLevel.READ_UNCOMMITTED);
        assertThat(end).isGreaterThanOrEqualTo(REQUESTS);
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(500))
                .until(() -> ConsumerGroups.committed(admin, METERING_GROUP, Topics.REQUESTS.name()) >= end);
    }

    private static long endOffsetSum(Admin admin, String topic, IsolationLevel isolation) throws Exception {
        return KafkaTopics.endOffsets(admin, List.of(topic), isolation, Duration.ofSeconds(30)).values().stream()
                .mapToLong(Long::longValue).sum();
    }
}
