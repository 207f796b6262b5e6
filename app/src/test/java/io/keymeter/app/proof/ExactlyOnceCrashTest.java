package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.testsupport.TopicReader;
import io.keymeter.testsupport.load.Ledger;
import io.keymeter.testsupport.load.LoadGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's EOS system test, on Keymeter: a seeded generator with a ground-truth ledger feeds metering while metering,
 * running in its own JVM, is killed with SIGKILL at random moments (with a commit interval long enough that kills
 * land inside open transactions) and restarted. Afterwards every daily total and every rejection read with
 * {@code read_committed} must equal the ledger exactly. The same run with {@code at_least_once} must fail the check.
 * <p>
 * Short version in the test command; the long one: {@code -Dproof.requests=1000000} (see README, "Proof").
 */
@Tag("proof")
@Timeout(900)
class ExactlyOnceCrashTest {

    private static final int REQUESTS = Integer.getInteger("proof.requests", 30_000);
    private static final int KILLS = Integer.getInteger("proof.kills", 3);

    @TempDir
    Path dir;

    @Test
    void exactlyOnceBillsEveryRequestOnceAcrossSigkills() throws Exception {
        runWithCrashes("exactly_once_v2", 42, (broker, ledger) ->
                await("outputs equal the ledger").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
                        .untilAsserted(() -> assertThat(ledger.differencesOn(broker.bootstrapServers(), 30)).as("differences from the ledger").isEmpty()));
    }

    @Test
    void atLeastOnceFailsTheSameCheck() throws Exception {
        runWithCrashes("at_least_once", 42, (broker, ledger) -> {
            // once every request has an outcome, the outputs must disagree with the ledger (counted twice)
            await("every request has an outcome").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> outcomes(broker) >= ledger.acceptedRequests()
                            + ledger.rejectionsByReason().values().stream().mapToLong(Long::longValue).sum());
            assertThat(ledger.differencesOn(broker.bootstrapServers(), 30)).as("at_least_once must show over-counting after kills").isNotEmpty();
        });
    }

    /** Accepted requests summed over the latest daily totals, plus rejection records. */
    private static long outcomes(EmbeddedKafkaBroker broker) {
        return Ledger.latestUsage(broker.bootstrapServers()).values().stream().mapToLong(UsageDaily::requests).sum()
                + TopicReader.readAll(broker.bootstrapServers(), Topics.REJECTIONS).size();
    }

    /** What the test checks once the run is over and metering still runs. */
    private interface Check {
        void verify(EmbeddedKafkaBroker broker, Ledger ledger) throws Exception;
    }

    private void runWithCrashes(String guarantee, long seed, Check check) throws Exception {
        LoadGenerator.Scenario scenario = new LoadGenerator(LoadGenerator.Settings.of(seed, REQUESTS,
                Instant.parse("2026-10-30T12:00:00Z"))).generate();
        Random kills = new Random(seed);
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start()) {
            String[] args = {"--keymeter.roles=metering", "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                    "--keymeter.data-dir=" + dir.resolve("metering"), "--keymeter.streams.commit-interval=PT2S",
                    "--spring.kafka.streams.properties.processing.guarantee=" + guarantee,
                    "--spring.kafka.streams.properties.commit.interval.ms=2000"};
            Path log = Files.createDirectories(Path.of("target", "proof-logs")).resolve("metering-" + guarantee + ".log");
            Files.deleteIfExists(log);
            ChildApp metering = new ChildApp(log, args).start();
            try {
                metering.awaitHealthy(Duration.ofSeconds(120));
                try (KafkaProducer<String, Object> producer = producer(broker)) {
                for (ApiKeyState state : scenario.keyStates()) {
                    producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, state.updatedAt().toEpochMilli(),
                            state.keyId(), state));
                }
                producer.flush();
                List<LoadGenerator.Request> requests = scenario.requests();
                Set<Integer> killPoints = kills.ints(1, requests.size() - 1).distinct().limit(KILLS).boxed()
                        .collect(Collectors.toSet());
                int chunk = Math.max(1, requests.size() / 50);
                for (int i = 0; i < requests.size(); i++) {
                    RequestLog r = requests.get(i).log();
                    producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, r.timestamp().toEpochMilli(),
                            r.keyId(), r));
                    if (killPoints.contains(i)) {
                        producer.flush();
                        awaitProgress(broker, i / 2);
                        metering.kill();
                        metering = new ChildApp(log, args).start().awaitHealthy(Duration.ofSeconds(120));
                    } else if (i % chunk == 0) {
                        producer.flush();
                    }
                }
                producer.flush();
                }
                check.verify(broker, scenario.ledger());
            } finally {
                metering.close();
            }
        }
    }

    private static KafkaProducer<String, Object> producer(EmbeddedKafkaBroker broker) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        return new KafkaProducer<>(config, new org.apache.kafka.common.serialization.StringSerializer(),
                (topic, value) -> topic.equals(Topics.API_KEYS.name())
                        ? Topics.API_KEYS.valueSerde().serializer().serialize(topic, (ApiKeyState) value)
                        : Topics.REQUESTS.valueSerde().serializer().serialize(topic, (RequestLog) value));
    }

    /** Waits until metering has committed at least this many requests, so a kill interrupts real work. */
    private static void awaitProgress(EmbeddedKafkaBroker broker, long committed) {
        await("metering progress").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> committedOffsets(broker) >= committed);
    }

    private static long committedOffsets(EmbeddedKafkaBroker broker) throws Exception {
        try (Admin admin = admin(broker)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("keymeter-metering")
                    .partitionsToOffsetAndMetadata().get();
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(Topics.REQUESTS.name()))
                    .filter(e -> e.getValue() != null).mapToLong(e -> e.getValue().offset()).sum();
        }
    }

    private static Admin admin(EmbeddedKafkaBroker broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }
}
