package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.credentials.lifecycle.AccountIndex;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.credentials.lifecycle.CredentialCommand;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listing one account's credentials when the store holds many accounts' (the production credential topology in
 * TopologyTestDriver, real RocksDB, credentials created by commands): through the account index against the scan
 * of every credential that listing did before, in the same run.
 */
class CredentialListBenchmark {

    private static final int ACCOUNTS = Integer.getInteger("bench.accounts", 500);
    private static final int PER_ACCOUNT = Integer.getInteger("bench.per-account", 100);
    private static final int ROUNDS = 30;

    @TempDir
    Path dir;

    @Test
    void listOneAccountAmongMany() {
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null,
                new KeymeterProperties.Keys(null, null, Duration.ofDays(7), null), null, null, null, null, null);
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, CredentialTopology.APP_NAME, CredentialTopology.OVERRIDES);
        Instant start = Instant.parse("2026-11-26T10:00:00Z");
        try (TopologyTestDriver driver = new TopologyTestDriver(
                new CredentialTopology(properties.keys().expiringNotice(), properties.keys().forgetAfter()).build(), config, start)) {
            TestInputTopic<String, CredentialCommand> commands = driver.createInputTopic(
                    CredentialTopics.COMMANDS.name(), CredentialTopics.COMMANDS.keySerde().serializer(),
                    CredentialTopics.COMMANDS.valueSerde().serializer());
            long createStart = System.nanoTime();
            for (int i = 0; i < ACCOUNTS * PER_ACCOUNT; i++) {
                String id = UUID.randomUUID().toString();
                commands.pipeInput(id, new CredentialCommand.CreateCredential(UUID.randomUUID().toString(), id,
                        "acct-" + (i % ACCOUNTS), start.plus(Duration.ofDays(1)), "app " + i,
                        List.of("premium:user:basemaps"), List.of(), List.of("https://*.example.com")));
            }
            Figures.print("credentials created (commands)", ACCOUNTS * PER_ACCOUNT, "credentials");
            Figures.print("create rate", ACCOUNTS * PER_ACCOUNT / ((System.nanoTime() - createStart) / 1e9), "commands/s");
            KeyValueStore<String, Credential> store = driver.getKeyValueStore(CredentialTopology.STORE);
            KeyValueStore<String, String> index = driver.getKeyValueStore(CredentialTopology.ACCOUNT_INDEX);

            double scan = timeMs("scan of every credential (before)", () -> scan(store, "acct-7"));
            double indexed = timeMs("account index (now)", () -> AccountIndex.credentialsOf("acct-7", index, store));
            Figures.ratio("list one account: index / scan, p50", indexed, scan);
        }
    }

    private static double timeMs(String name, Supplier<List<Credential>> list) {
        long[] samples = new long[ROUNDS];
        for (int round = 0; round < ROUNDS + 5; round++) {
            long t0 = System.nanoTime();
            List<Credential> found = list.get();
            if (round >= 5) {
                samples[round - 5] = System.nanoTime() - t0;
            }
            assertThat(found).hasSize(PER_ACCOUNT);
        }
        double p50 = Figures.percentile(samples, 50) / 1e6;
        Figures.print("list one account of " + PER_ACCOUNT + ", " + name + " p50", p50, "ms");
        Figures.print("list one account of " + PER_ACCOUNT + ", " + name + " max", Figures.percentile(samples, 100) / 1e6, "ms");
        return p50;
    }

    private static List<Credential> scan(KeyValueStore<String, Credential> store, String accountId) {
        List<Credential> out = new ArrayList<>();
        try (KeyValueIterator<String, Credential> all = store.all()) {
            all.forEachRemaining(kv -> {
                if (kv.value.accountId().equals(accountId)) {
                    out.add(kv.value);
                }
            });
        }
        return out;
    }
}
