package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.credentials.lifecycle.CredentialCommand;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the credential store's wall-clock check costs the stream thread every second (every command waits while it
 * runs) when nothing is due: one task holding many credentials with active keys against one holding none, in the
 * same run (the production topology in TopologyTestDriver, real RocksDB, credentials created by commands). It should
 * not grow with the store: the check reads only the due entries of its index.
 */
class ExpiryCheckBenchmark {

    private static final int CREDENTIALS = Integer.getInteger("bench.credentials", 5_000);
    private static final int WARMUP = 100;
    private static final int TICKS = 300;
    private static final Instant START = Instant.parse("2026-11-26T10:00:00Z");

    @TempDir
    Path warm;
    @TempDir
    Path empty;
    @TempDir
    Path full;

    @Test
    void aTickWithNothingDue() {
        tickP50(warm, 0); // the JIT's round, not counted: the first store measured ran slowest whatever it held
        double none = tickP50(empty, 0);
        double many = tickP50(full, CREDENTIALS);
        Figures.ratio("one tick p50: " + CREDENTIALS + " credentials / none", many, none);
    }

    private static double tickP50(Path dir, int credentials) {
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null, null, null, null, null,
                null, null);
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, CredentialTopology.APP_NAME, CredentialTopology.OVERRIDES);
        try (TopologyTestDriver driver = new TopologyTestDriver(new CredentialTopology(properties.keys().expiringNotice(),
                properties.keys().forgetAfter()).build(), config, START)) {
            TestInputTopic<String, CredentialCommand> commands = driver.createInputTopic(
                    CredentialTopics.COMMANDS.name(), CredentialTopics.COMMANDS.keySerde().serializer(),
                    CredentialTopics.COMMANDS.valueSerde().serializer());
            Instant deadline = START.plus(Duration.ofDays(1));
            for (int i = 0; i < credentials; i++) {
                String id = UUID.randomUUID().toString();
                commands.pipeInput(id, new CredentialCommand.CreateCredential(UUID.randomUUID().toString(), id,
                        "acct", deadline, "app " + i, List.of("premium:user:basemaps"), List.of(), List.of()));
                ApiKeys.GeneratedKey key = ApiKeys.generate();
                commands.pipeInput(id, new CredentialCommand.GenerateKey(UUID.randomUUID().toString(), id, "acct",
                        deadline, 1, key.keyId(), key.secretHash(), START.plus(Duration.ofDays(30))));
            }
            var apiKeys = driver.createOutputTopic(Topics.API_KEYS.name(), Topics.API_KEYS.keySerde().deserializer(),
                    Topics.API_KEYS.valueSerde().deserializer());
            apiKeys.readRecordsToList();
            long[] samples = new long[TICKS];
            for (int tick = 0; tick < WARMUP + TICKS; tick++) {
                long t0 = System.nanoTime();
                driver.advanceWallClockTime(Duration.ofSeconds(1)); // one run of each wall-clock punctuator
                if (tick >= WARMUP) {
                    samples[tick - WARMUP] = System.nanoTime() - t0;
                }
            }
            assertThat(apiKeys.isEmpty()).as("nothing was due in those minutes").isTrue();
            double p50 = Figures.percentile(samples, 50) / 1e6;
            Figures.print("one tick, " + credentials + " credentials with keys, p50", p50, "ms");
            Figures.print("one tick, " + credentials + " credentials with keys, p99",
                    Figures.percentile(samples, 99) / 1e6, "ms");
            return p50;
        }
    }
}
