package io.keymeter.benchmarks;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.events.Statement;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TempDirs;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.junit.jupiter.api.Test;

/**
 * The billing ledger on the production topology and configuration (TopologyTestDriver, real RocksDB):
 * usage-daily updates per second against a baseline topology that only re-keys the same records through a
 * repartition (what any by-account processing must pay), and how fast a cycle close issues final statements.
 */
class BillingBenchmark {

    private static final int ACCOUNTS = 5_000;
    private static final int RECORDS = 100_000;
    private static final String[] SERVICES = {"basemaps", "geocoding", "routing", "places", "geocoding-stored"};

    @Test
    void ledgerThroughputAndCycleClose() throws Exception {
        List<UsageDaily> records = new ArrayList<>(RECORDS);
        for (int i = 0; i < RECORDS; i++) {
            int account = i % ACCOUNTS;
            records.add(new UsageDaily("acct-" + account, "cred-" + account + "-" + (i / ACCOUNTS) % 2,
                    SERVICES[(i / (2 * ACCOUNTS)) % SERVICES.length], LocalDate.of(2026, 11, 1 + (i / 20_000) % 14),
                    1 + i % 50, 10 + i % 500));
        }
        Instant wallClock = Instant.parse("2026-11-15T12:00:00Z");

        // warm-up of both, then the measured runs
        run(baseline(), records.subList(0, 10_000), wallClock, false);
        run(new BillingTopology(PriceCatalog.defaults("USD"), Duration.ofHours(1), Duration.ofHours(1)).build(), records.subList(0, 10_000),
                wallClock, false);

        double baselineRate = run(baseline(), records, wallClock, false)[0];
        double[] ledger = run(new BillingTopology(PriceCatalog.defaults("USD"), Duration.ofHours(1), Duration.ofHours(1)).build(), records,
                wallClock, true);

        Figures.print("billing baseline (re-key + repartition only)", baselineRate, "records/s");
        Figures.print("billing ledger usage-daily updates", ledger[0], "records/s");
        Figures.ratio("billing ledger vs baseline", ledger[0], baselineRate);
        Figures.print("billing cycle close: final statements", ledger[1], "statements");
        Figures.print("billing cycle close: statements per second", ledger[2], "statements/s");
        Figures.print("billing cycle close: punctuations needed", ledger[4], "punctuations");
        Figures.print("billing idle punctuation (nothing due, " + ACCOUNTS + " open)", ledger[3], "ms");
    }

    /** {records/s, statements issued at close, statements/s, idle punctuation ms, punctuations to close}. */
    private static double[] run(Topology topology, List<UsageDaily> records, Instant wallClock, boolean close)
            throws Exception {
        Path dir = TempDirs.create("billing-bench");
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null, null, null, null, null,
                null, null);
        Properties config = StreamsFactory.config(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, BillingTopology.APP_NAME, Map.of());
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, config, wallClock)) {
            TestInputTopic<String, UsageDaily> in = driver.createInputTopic(Topics.USAGE_DAILY.name(),
                    Topics.USAGE_DAILY.keySerde().serializer(), Topics.USAGE_DAILY.valueSerde().serializer());
            long start = System.nanoTime();
            for (UsageDaily record : records) {
                in.pipeInput(record.key(), record);
            }
            double rate = records.size() / ((System.nanoTime() - start) / 1e9);
            if (!close) {
                return new double[] {rate, 0, 0, 0, 0};
            }
            TestOutputTopic<String, Statement> out = driver.createOutputTopic(Topics.BILLING_STATEMENTS.name(),
                    Topics.BILLING_STATEMENTS.keySerde().deserializer(), Topics.BILLING_STATEMENTS.valueSerde().deserializer());
            long idleStart = System.nanoTime();
            driver.advanceWallClockTime(Duration.ofMinutes(1));
            double idleMs = (System.nanoTime() - idleStart) / 1e6;
            if (!out.isEmpty()) {
                throw new AssertionError("nothing is due before the cycle closes");
            }
            // the close is spread over punctuations (bounded work each): advance until every account has its final
            Instant clock = Instant.parse("2026-12-01T01:00:00Z");
            double seconds = 0;
            int punctuations = 0;
            long statements = 0;
            Duration step = Duration.between(wallClock.plus(Duration.ofMinutes(1)), clock);
            while (statements < ACCOUNTS && punctuations < 1_000) {
                long closeStart = System.nanoTime();
                driver.advanceWallClockTime(step);
                seconds += (System.nanoTime() - closeStart) / 1e9;
                punctuations++;
                statements += out.readKeyValuesToList().size();
                step = BillingTopology.CHECK_INTERVAL;
            }
            if (statements != ACCOUNTS) {
                throw new AssertionError("expected one final statement per account, got " + statements);
            }
            return new double[] {rate, statements, statements / seconds, idleMs, punctuations};
        }
    }

    /** The same input re-keyed by account through a repartition to a sink: no stores, no pricing. */
    private static Topology baseline() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.USAGE_DAILY.name(), Consumed.with(Topics.USAGE_DAILY.keySerde(), Topics.USAGE_DAILY.valueSerde()))
                .selectKey((key, value) -> value.accountId(), Named.as("baseline-by-account"))
                .repartition(Repartitioned.<String, UsageDaily>as("baseline-repartition")
                        .withKeySerde(Serdes.String()).withValueSerde(Topics.USAGE_DAILY.valueSerde()))
                .to("baseline-out", Produced.with(Serdes.String(), Topics.USAGE_DAILY.valueSerde()));
        return builder.build();
    }
}
