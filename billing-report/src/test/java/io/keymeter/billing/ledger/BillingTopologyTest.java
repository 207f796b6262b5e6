package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.Totals;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TopologyNames;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production billing topology with the production Streams configuration, driven by wall-clock punctuation.
 * Default catalog: geocoding 0.50 per 1,000 with 20,000 free units, geocoding-stored 4.00 with none.
 */
class BillingTopologyTest {

    private static final Duration GRACE = Duration.ofHours(1);

    @TempDir
    Path dataDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, UsageDaily> usage;
    private TestInputTopic<String, CredentialEvent> credentials;
    private TestInputTopic<String, Rejection> rejections;
    private TestOutputTopic<String, Statement> statements;
    private LedgerLimits limits = LedgerLimits.DEFAULTS;
    private Duration grace = GRACE;
    /** Null: the production default (an hour). */
    private Duration adjustmentInterval;

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
    }

    private void start(Instant wallClock) {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null, null,
                null, null, null);
        Properties config = StreamsFactory.config(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, BillingTopology.APP_NAME, BillingTopology.streamsOverrides());
        driver = new TopologyTestDriver(new BillingTopology(PriceCatalog.defaults("USD"), grace,
                adjustmentInterval == null ? properties.billing().adjustmentInterval() : adjustmentInterval,
                BillingTopology.CHECK_INTERVAL, limits).build(), config, wallClock);
        usage = driver.createInputTopic(Topics.USAGE_DAILY.name(), Topics.USAGE_DAILY.keySerde().serializer(),
                Topics.USAGE_DAILY.valueSerde().serializer());
        credentials = driver.createInputTopic(Topics.CREDENTIAL_EVENTS.name(), Topics.CREDENTIAL_EVENTS.keySerde().serializer(),
                Topics.CREDENTIAL_EVENTS.valueSerde().serializer());
        rejections = driver.createInputTopic(Topics.REJECTIONS.name(), Topics.REJECTIONS.keySerde().serializer(),
                Topics.REJECTIONS.valueSerde().serializer());
        statements = driver.createOutputTopic(Topics.BILLING_STATEMENTS.name(),
                Topics.BILLING_STATEMENTS.keySerde().deserializer(), Topics.BILLING_STATEMENTS.valueSerde().deserializer());
    }

    /** Every processor, store and topic of the topology is named (see {@link TopologyNames}). */
    @Test
    void everyProcessorStoreAndTopicIsNamed() {
        Topology topology = new BillingTopology(PriceCatalog.defaults("USD"), GRACE, Duration.ofHours(1),
                new RunningPartitions()).build();
        assertThat(TopologyNames.all(topology)).hasSizeGreaterThan(10);
        assertThat(TopologyNames.generated(topology)).isEmpty();
    }

    @Test
    void theLedgerReportsItsTaskRunningUntilItCloses() {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null, null,
                null, null, null);
        Properties config = StreamsFactory.config(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, BillingTopology.APP_NAME, BillingTopology.streamsOverrides());
        RunningPartitions running = new RunningPartitions();
        BillingTopology topology = new BillingTopology(PriceCatalog.defaults("USD"), GRACE,
                properties.billing().adjustmentInterval(), running);
        assertThat(topology.running()).isSameAs(running);
        try (TopologyTestDriver ledger = new TopologyTestDriver(topology.build(), config, Instant.now())) {
            assertThat(running.running()).as("the test driver's one task, of partition 0, initialized")
                    .containsExactly(0);
        }
        assertThat(running.running()).as("its processors closed with the task").isEmpty();
    }

    private void send(String account, String credential, String service, String date, long requests, long units) {
        UsageDaily day = new UsageDaily(account, credential, service, LocalDate.parse(date), requests, units);
        usage.pipeInput(day.key(), day);
    }

    private void reject(String account, String credential, String at) {
        reject(account, credential, at, RejectionReason.EXPIRED);
    }

    private void reject(String account, String credential, String at, RejectionReason reason) {
        rejections.pipeInput("keyid0000000000" + credential.length(), new Rejection("r-" + at, "keyid", account, credential,
                "geocoding", "find", 1, null, null, Instant.parse(at), reason));
    }

    /** Moves the wall clock to {@code at} (the punctuator fires once). */
    private void clockTo(String at) {
        Instant target = Instant.parse(at);
        driver.advanceWallClockTime(Duration.between(current, target));
        current = target;
    }

    private Instant current;

    private void startAt(String at) {
        current = Instant.parse(at);
        start(current);
    }

    private static StatementLine line(Statement statement, String service) {
        return statement.lines().stream().filter(l -> l.service().equals(service)).findFirst().orElseThrow();
    }

    @Test
    void usageOnTheLastMillisecondOfAMonthIsBilledInThatMonthAndMidnightInTheNext() {
        startAt("2026-10-31T23:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-10-31", 1, 1000);
        send("acme", "c1", "geocoding-stored", "2026-11-01", 1, 2000);
        reject("acme", "c1", "2026-10-31T23:59:59.999Z");
        reject("acme", "c1", "2026-11-01T00:00:00Z");
        reject("acme", "c1", "2026-11-01T00:00:01Z", RejectionReason.REFERRER_NOT_PERMITTED);

        clockTo("2026-11-01T00:59:59.999Z");
        assertThat(statements.isEmpty()).as("October is still in its grace period").isTrue();

        clockTo("2026-11-01T01:00:00Z");
        Statement october = statements.readValue();
        assertThat(october.statementId()).isEqualTo("acme-2026-10-final");
        assertThat(october.cycle()).isEqualTo("2026-10");
        assertThat(line(october, "geocoding-stored").units()).isEqualTo(1000);
        assertThat(october.amountDue()).isEqualByComparingTo("4.00");
        assertThat(statements.isEmpty()).isTrue();

        KeyValueStore<String, Long> rejected = driver.getKeyValueStore(BillingTopology.REJECTIONS_STORE);
        assertThat(rejected.get("acme/2026-10/c1")).isEqualTo(1L);
        assertThat(rejected.get("acme/2026-11/c1")).isEqualTo(2L);
        KeyValueStore<String, Long> byReason = driver.getKeyValueStore(BillingTopology.REJECTION_REASONS_STORE);
        assertThat(byReason.get("acme/2026-10/c1/expired")).isEqualTo(1L);
        assertThat(byReason.get("acme/2026-11/c1/expired")).isEqualTo(1L);
        assertThat(byReason.get("acme/2026-11/c1/referrer-not-permitted")).isEqualTo(1L);
    }

    @Test
    void aLedgerRestartedAfterTheCloseReadsItsBacklogBeforeIssuingTheFinal() {
        // back at 02:00 after an outage across October's close (01:00): the backlog still holds October's last totals
        startAt("2026-11-01T02:00:00Z");
        usage(Instant.parse("2026-10-31T21:00:00Z"), "2026-10-31", 1, 1000);
        clockTo("2026-11-01T02:00:10Z"); // a punctuation while the backlog is read
        assertThat(statements.isEmpty()).as("input read only up to 21:00: October not final yet").isTrue();

        usage(Instant.parse("2026-10-31T23:50:00Z"), "2026-10-31", 3, 3000); // reached Kafka before the close
        usage(Instant.parse("2026-11-01T01:30:00Z"), "2026-11-01", 1, 500); // read past the close: caught up
        clockTo("2026-11-01T02:00:20Z");

        assertThat(statements.readValuesToList()).singleElement().satisfies(october -> {
            assertThat(october.statementId()).isEqualTo("acme-2026-10-final");
            assertThat(line(october, "geocoding-stored").units()).as("the whole month, no adjustment").isEqualTo(3000);
        });
    }

    @Test
    void aLedgerWithNoNewerInputSettlesOnceItHasHadNoneForAWhile() {
        startAt("2026-11-01T02:00:00Z");
        usage(Instant.parse("2026-10-31T23:50:00Z"), "2026-10-31", 3, 3000);
        clockTo("2026-11-01T02:00:20Z");
        assertThat(statements.isEmpty()).isTrue();

        clockTo("2026-11-01T02:00:40Z"); // 40 s without input: nothing more is coming
        assertThat(statements.readValue().statementId()).isEqualTo("acme-2026-10-final");
    }

    @Test
    void aFinalWaitsForTheInputAtMostAnHour() {
        // input that never reaches the close: every record stamped before it, arriving every 10 s
        startAt("2026-11-01T02:00:00Z");
        Instant at = current;
        int punctuations = 0;
        while (statements.isEmpty()) {
            punctuations++;
            usage(Instant.parse("2026-10-31T21:00:00Z"), "2026-10-31", punctuations, punctuations);
            at = at.plusSeconds(10);
            clockTo(at.toString());
            assertThat(punctuations).as("settled within the hour and a punctuation").isLessThanOrEqualTo(362);
        }
        assertThat(Duration.between(Instant.parse("2026-11-01T02:00:00Z"), at)).as("waited an hour")
                .isGreaterThanOrEqualTo(Duration.ofHours(1));
        assertThat(statements.readValue().statementId()).isEqualTo("acme-2026-10-final");
    }

    @Test
    void aFloodOfAdjustmentsThatStopsPunctuationsShortOfAWaitingFinalDoesNotRestartItsHour() {
        adjustmentInterval = Duration.ZERO; // an adjustment due at every punctuation: the flood
        limits = new LedgerLimits(1, LedgerLimits.DEFAULTS.settleBudget(), LedgerLimits.DEFAULTS.idle(),
                LedgerLimits.DEFAULTS.maxCatchUp());
        startAt("2026-12-01T02:00:00Z");
        usage("late", Instant.parse("2026-11-15T00:00:00Z"), "2026-10-31", 1, 100);
        usage(Instant.parse("2026-11-30T21:00:00Z"), "2026-11-30", 1, 1); // acme's November: input not read up to its close
        Instant at = current.plusSeconds(10);
        clockTo(at.toString());
        assertThat(statements.readValue().statementId()).isEqualTo("late-2026-10-final");

        // every other punctuation settles only late's October adjustment (it sorts first) and stops on its count
        int punctuations = 0;
        while (statements.readValuesToList().stream().noneMatch(s -> s.statementId().equals("acme-2026-11-final"))) {
            punctuations++;
            usage(Instant.parse("2026-11-30T21:00:00Z"), "2026-11-30", 1, 1 + punctuations);
            if (punctuations % 2 == 1) {
                usage("late", Instant.parse("2026-11-15T00:00:00Z"), "2026-10-31", 1, 100 + punctuations);
            }
            at = at.plusSeconds(10);
            clockTo(at.toString());
            assertThat(punctuations).as("the final waits an hour, however many punctuations stopped short of it")
                    .isLessThanOrEqualTo(365);
        }
        assertThat(Duration.between(Instant.parse("2026-12-01T02:00:10Z"), at)).as("waited an hour")
                .isGreaterThanOrEqualTo(Duration.ofHours(1));
    }

    private void usage(Instant recordTime, String date, long requests, long units) {
        usage("acme", recordTime, date, requests, units);
    }

    private void usage(String account, Instant recordTime, String date, long requests, long units) {
        UsageDaily day = new UsageDaily(account, "c1", "geocoding-stored", LocalDate.parse(date), requests, units);
        usage.pipeInput(day.key(), day, recordTime);
    }

    @Test
    void februaryOfALeapYearHas29DaysAndClosesOnTheFirstOfMarch() {
        startAt("2028-02-29T12:00:00Z");
        send("acme", "c1", "geocoding-stored", "2028-02-29", 2, 500);
        send("acme", "c1", "geocoding-stored", "2028-03-01", 2, 700);

        clockTo("2028-03-01T00:30:00Z");
        assertThat(statements.isEmpty()).isTrue();
        clockTo("2028-03-01T01:00:00Z");

        Statement february = statements.readValue();
        assertThat(february.statementId()).isEqualTo("acme-2028-02-final");
        assertThat(line(february, "geocoding-stored").units()).isEqualTo(500);
        assertThat(february.amountDue()).isEqualByComparingTo("2.00");
        assertThat(statements.isEmpty()).isTrue();
    }

    @Test
    void freeUnitsApplyOncePerAccountAndServiceNotPerCredential() {
        startAt("2026-11-20T00:00:00Z");
        send("acme", "c1", "geocoding", "2026-11-02", 10, 15_000);
        send("acme", "c2", "geocoding", "2026-11-03", 10, 15_000);
        send("globex", "g1", "geocoding", "2026-11-03", 10, 15_000);

        clockTo("2026-12-01T01:00:00Z");
        List<Statement> issued = statements.readValuesToList();
        assertThat(issued).extracting(Statement::statementId)
                .containsExactlyInAnyOrder("acme-2026-11-final", "globex-2026-11-final");
        Statement acme = issued.stream().filter(s -> s.accountId().equals("acme")).findFirst().orElseThrow();
        StatementLine geocoding = line(acme, "geocoding");
        assertThat(geocoding.units()).isEqualTo(30_000);
        assertThat(geocoding.requests()).isEqualTo(20);
        assertThat(geocoding.freeUnits()).isEqualTo(20_000);
        assertThat(geocoding.billableUnits()).isEqualTo(10_000);
        assertThat(geocoding.amount()).isEqualTo(new BigDecimal("5.00"));
        assertThat(acme.amountDue()).isEqualTo(new BigDecimal("5.00"));

        Statement globex = issued.stream().filter(s -> s.accountId().equals("globex")).findFirst().orElseThrow();
        assertThat(line(globex, "geocoding").freeUnits()).isEqualTo(15_000);
        assertThat(globex.amountDue()).isEqualTo(new BigDecimal("0.00"));
    }

    /** Summed in a long, two days of 5×10^18 units wrapped to negative units and money on the statement. */
    @Test
    void aStatementSumsUnitsBeyondALongExactly() {
        startAt("2026-11-20T00:00:00Z");
        send("acme", "c1", "geocoding", "2026-11-02", 1, 5_000_000_000_000_000_000L);
        send("acme", "c1", "geocoding", "2026-11-03", 1, 5_000_000_000_000_000_000L);

        clockTo("2026-12-01T01:00:00Z");
        StatementLine geocoding = line(statements.readValue(), "geocoding");
        assertThat(geocoding.units()).isEqualTo(new java.math.BigInteger("10000000000000000000"));
        assertThat(geocoding.billableUnits()).isEqualTo(new java.math.BigInteger("9999999999999980000"));
        assertThat(geocoding.amount()).isEqualTo(new BigDecimal("4999999999999990.00"));
    }

    @Test
    void amountsAreRoundedHalfEvenToCentsPerLine() {
        startAt("2026-11-20T00:00:00Z");
        // geocoding: 50 billable units x 0.50 / 1000 = 0.025 -> 0.02 (half-up would say 0.03)
        send("acme", "c1", "geocoding", "2026-11-02", 1, 20_050);
        // basemaps: 2,000,300 - 2,000,000 free = 300 x 0.15 / 1000 = 0.045 -> 0.04
        send("acme", "c1", "basemaps", "2026-11-02", 1, 2_000_300);

        clockTo("2026-12-01T01:00:00Z");
        Statement statement = statements.readValue();
        assertThat(line(statement, "geocoding").amount()).isEqualTo(new BigDecimal("0.02"));
        assertThat(line(statement, "basemaps").amount()).isEqualTo(new BigDecimal("0.04"));
        assertThat(statement.amountDue()).isEqualTo(new BigDecimal("0.06"));
    }

    @Test
    void anIdleAccountsCycleClosesOnTheWallClockWithItsStatement() {
        startAt("2026-11-03T10:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-03", 3, 250);
        clockTo("2026-11-30T23:59:59Z");
        assertThat(statements.isEmpty()).isTrue();

        // no record of any kind arrives: only the wall clock moves
        clockTo("2026-12-01T01:00:05Z");
        Statement statement = statements.readValue();
        assertThat(statement.statementId()).isEqualTo("acme-2026-11-final");
        assertThat(statement.kind()).isEqualTo("final");
        assertThat(statement.issuedAt()).isEqualTo(Instant.parse("2026-12-01T01:00:05Z"));
        assertThat(statement.currency()).isEqualTo("USD");
        assertThat(statement.amountDue()).isEqualTo(new BigDecimal("1.00"));
        assertThat(statements.isEmpty()).isTrue();

        clockTo("2026-12-01T02:00:00Z");
        assertThat(statements.isEmpty()).as("a closed cycle without changes issues nothing more").isTrue();
        KeyValueStore<String, Statement> kept = driver.getKeyValueStore(BillingTopology.STATEMENTS_STORE);
        assertThat(kept.get("acme/2026-11/0000").statementId()).isEqualTo("acme-2026-11-final");
    }

    /**
     * Late usage is gathered into one adjustment an {@code adjustment-interval} (an hour) after the cycle's last
     * statement: one was issued at every 10 s punctuation while late usage trickled in, 360 statements an hour.
     */
    @Test
    void lateUsageForAClosedCycleIsBilledAsOneAdjustmentAnHourAfterTheLastStatementWithOnlyTheDifference() {
        startAt("2026-11-30T12:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-30", 10, 1000);
        send("acme", "c1", "geocoding", "2026-11-30", 5, 100);
        clockTo("2026-12-01T01:00:00Z");
        assertThat(statements.readValue().amountDue()).isEqualTo(new BigDecimal("4.00"));

        // two later updates of the same day (latest totals, not deltas) and an unchanged repeat, trickling in
        send("acme", "c1", "geocoding-stored", "2026-11-30", 12, 1200);
        clockTo("2026-12-01T01:00:10Z");
        send("acme", "c1", "geocoding-stored", "2026-11-30", 15, 1500);
        send("acme", "c1", "geocoding", "2026-11-30", 5, 100);
        clockTo("2026-12-01T01:59:50Z");
        assertThat(statements.isEmpty()).as("nothing before the hour is up").isTrue();
        clockTo("2026-12-01T02:00:00Z");

        Statement adjustment = statements.readValue();
        assertThat(adjustment.statementId()).isEqualTo("acme-2026-11-adj-1");
        assertThat(adjustment.kind()).isEqualTo("adjustment");
        assertThat(adjustment.issuedAt()).isEqualTo(Instant.parse("2026-12-01T02:00:00Z"));
        assertThat(adjustment.lines()).hasSize(1);
        StatementLine line = line(adjustment, "geocoding-stored");
        assertThat(line.requests()).isEqualTo(5);
        assertThat(line.units()).isEqualTo(500);
        assertThat(line.billableUnits()).isEqualTo(500);
        assertThat(line.amount()).isEqualTo(new BigDecimal("2.00"));
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("2.00"));
        assertThat(statements.isEmpty()).isTrue();

        clockTo("2026-12-01T02:00:20Z");
        assertThat(statements.isEmpty()).isTrue();
        send("acme", "c2", "geocoding-stored", "2026-11-29", 1, 250);
        clockTo("2026-12-01T02:59:50Z");
        assertThat(statements.isEmpty()).as("an hour after the first adjustment, not before").isTrue();
        clockTo("2026-12-01T03:00:00Z");
        Statement second = statements.readValue();
        assertThat(second.statementId()).isEqualTo("acme-2026-11-adj-2");
        assertThat(second.amountDue()).isEqualTo(new BigDecimal("1.00"));
        assertThat(statements.isEmpty()).isTrue();

        // late usage a day later, long after the last statement: billed at the next punctuation
        clockTo("2026-12-02T03:00:00Z");
        send("acme", "c2", "geocoding-stored", "2026-11-29", 2, 500);
        clockTo("2026-12-02T03:00:10Z");
        assertThat(statements.readValue().statementId()).isEqualTo("acme-2026-11-adj-3");
    }

    /** A credential's rejection without its account was filtered out unseen; now it reaches the dead letters. */
    @Test
    void aCredentialsRejectionWithoutItsAccountGoesToTheDeadLettersAndTheRestIsCounted() {
        startAt("2026-11-03T10:00:00Z");
        rejections.pipeInput("keyid-a", new Rejection("r-1", "keyid-a", null, "c1", "geocoding", "find", 1, null, null,
                Instant.parse("2026-11-03T10:00:00Z"), RejectionReason.EXPIRED));
        reject("acme", "c1", "2026-11-03T10:00:01Z");

        TestOutputTopic<byte[], byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS,
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(deadLetters.readRecordsToList()).singleElement()
                .satisfies(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("keyid-a"));
        KeyValueStore<String, Long> rejected = driver.getKeyValueStore(BillingTopology.REJECTIONS_STORE);
        assertThat(rejected.get("acme/2026-11/c1")).isEqualTo(1L);
    }

    /**
     * Security alerts reach the account's ledger: per key and run of uses the latest (metering's running
     * count), in the cycle of its last use; an older one arriving later changes nothing, one whose first use moved
     * earlier replaces the one it covers, a run counted again from 1 is a row of its own; one without its account
     * goes to the dead letters (it would have been dropped unseen).
     */
    @Test
    void securityAlertsAreKeptPerKeyLatestFirstInTheCycleOfTheirLastUse() {
        startAt("2026-12-01T10:00:00Z");
        TestInputTopic<String, SecurityAlert> alerts = driver.createInputTopic(Topics.SECURITY_ALERTS.name(),
                Topics.SECURITY_ALERTS.keySerde().serializer(), Topics.SECURITY_ALERTS.valueSerde().serializer());
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "invalidated", 1, "2026-11-30T23:00:00Z", "2026-11-30T23:00:00Z"));
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "invalidated", 40, "2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z"));
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "invalidated", 7, "2026-11-30T23:00:00Z", "2026-12-01T00:10:00Z"));
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "expired", 2, "2026-12-01T02:00:00Z", "2026-12-01T02:05:00Z"));
        alerts.pipeInput("c2", alert(null, "c2", "key2", "expired", 1, "2026-12-01T03:00:00Z", "2026-12-01T03:00:00Z"));

        // metering forgot the key after a long quiet and counts a new run from 1: a row of its own
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "invalidated", 1, "2026-12-01T05:00:00Z", "2026-12-01T05:00:00Z"));
        // a late use stamped before the run's first moves its first use earlier: the same run, one row still
        alerts.pipeInput("c1", alert("acme", "c1", "key1", "expired", 3, "2026-12-01T01:30:00Z", "2026-12-01T02:06:00Z"));
        // a run whose uses went from expired to invalidated (the key invalidated after it expired): one row, its
        // latest reason, the count of both (a row per reason showed the expired uses twice)
        alerts.pipeInput("c1", alert("acme", "c1", "key2", "expired", 2, "2026-12-01T06:00:00Z", "2026-12-01T06:10:00Z"));
        alerts.pipeInput("c1", alert("acme", "c1", "key2", "invalidated", 5, "2026-12-01T06:00:00Z", "2026-12-01T07:40:00Z"));

        KeyValueStore<String, SecurityAlert> held = driver.getKeyValueStore(BillingTopology.ALERTS_STORE);
        assertThat(rowsUnder(held, "acme/2026-12/c1/key2/")).singleElement().satisfies(row -> {
            assertThat(row.key).isEqualTo("acme/2026-12/c1/key2/" + Instant.parse("2026-12-01T06:00:00Z").toEpochMilli());
            assertThat(row.value.reason()).isEqualTo("invalidated");
            assertThat(row.value.count()).isEqualTo(5);
        });
        long run = Instant.parse("2026-11-30T23:00:00Z").toEpochMilli();
        assertThat(held.get("acme/2026-11/c1/key1/" + run).count()).isEqualTo(1);
        assertThat(held.get("acme/2026-12/c1/key1/" + run).count()).as("the latest, not the late older one")
                .isEqualTo(40);
        assertThat(held.get("acme/2026-12/c1/key1/" + Instant.parse("2026-12-01T05:00:00Z").toEpochMilli())
                .count()).isEqualTo(1);
        assertThat(held.get("acme/2026-12/c1/key1/" + Instant.parse("2026-12-01T02:00:00Z").toEpochMilli()))
                .as("covered by the alert with the earlier first use").isNull();
        assertThat(held.get("acme/2026-12/c1/key1/" + Instant.parse("2026-12-01T01:30:00Z").toEpochMilli())
                .count()).isEqualTo(3);
        TestOutputTopic<byte[], byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS,
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(deadLetters.readRecordsToList()).singleElement()
                .satisfies(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("c2"));
    }

    /**
     * Rows the first version kept per key, reason and run (an expired row and an invalidated row for one run) are
     * replaced by the next alert of that run with one row.
     */
    @Test
    void rowsKeptPerReasonByTheFirstVersionGiveWayToTheNextAlertOfTheirRun() {
        startAt("2026-12-01T10:00:00Z");
        KeyValueStore<String, SecurityAlert> held = driver.getKeyValueStore(BillingTopology.ALERTS_STORE);
        long first = Instant.parse("2026-12-01T06:00:00Z").toEpochMilli();
        held.put("acme/2026-12/c1/key2/expired/" + first,
                alert("acme", "c1", "key2", "expired", 2, "2026-12-01T06:00:00Z", "2026-12-01T06:10:00Z"));
        held.put("acme/2026-12/c1/key2/invalidated/" + first,
                alert("acme", "c1", "key2", "invalidated", 5, "2026-12-01T06:00:00Z", "2026-12-01T07:40:00Z"));
        TestInputTopic<String, SecurityAlert> alerts = driver.createInputTopic(Topics.SECURITY_ALERTS.name(),
                Topics.SECURITY_ALERTS.keySerde().serializer(), Topics.SECURITY_ALERTS.valueSerde().serializer());

        alerts.pipeInput("c1", alert("acme", "c1", "key2", "invalidated", 6, "2026-12-01T06:00:00Z", "2026-12-01T08:45:00Z"));

        assertThat(rowsUnder(held, "acme/2026-12/c1/key2/")).singleElement().satisfies(row -> {
            assertThat(row.key).isEqualTo("acme/2026-12/c1/key2/" + first);
            assertThat(row.value.count()).isEqualTo(6);
        });
    }

    /** The alert rows held under a key prefix, in key order. */
    private static List<KeyValue<String, SecurityAlert>> rowsUnder(KeyValueStore<String, SecurityAlert> held,
                                                                   String prefix) {
        List<KeyValue<String, SecurityAlert>> rows = new ArrayList<>();
        try (KeyValueIterator<String, SecurityAlert> all = held.prefixScan(prefix, new StringSerializer())) {
            all.forEachRemaining(rows::add);
        }
        return rows;
    }

    private static SecurityAlert alert(String account, String credential, String keyId, String reason, long count,
                                       String firstSeen, String lastSeen) {
        return new SecurityAlert("invalid-key-in-use", account, credential, keyId, reason, count,
                Instant.parse(firstSeen), Instant.parse(lastSeen));
    }

    /**
     * A closed cycle's late usage was due at the cycle's close under the grace configured now: raised after the
     * close, it held the adjustment back until the new close (three days here).
     */
    @Test
    void lateUsageForAClosedCycleIsNotHeldBackByAGraceRaisedSinceTheClose() {
        startAt("2026-11-30T12:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-30", 10, 1000);
        clockTo("2026-12-01T01:00:00Z");
        assertThat(statements.readValue().amountDue()).isEqualTo(new BigDecimal("4.00"));

        restartWith(Duration.ofDays(3), "2026-12-01T02:00:00Z");

        send("acme", "c1", "geocoding-stored", "2026-11-30", 15, 1500);
        clockTo("2026-12-01T02:00:10Z");
        Statement adjustment = statements.readValue();
        assertThat(adjustment.statementId()).isEqualTo("acme-2026-11-adj-1");
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("2.00"));
        assertThat(statements.isEmpty()).isTrue();
    }

    /**
     * A grace lowered within a cycle leaves the cycle's close queued at both times; the final is issued at the first,
     * and the second, come due, issued an adjustment minutes after the last statement, not the interval after it.
     * (Found by a model of the ledger with random inputs.)
     */
    @Test
    void aCloseLeftQueuedByAGraceChangedInTheCycleIssuesNoAdjustmentWithinTheInterval() {
        grace = Duration.ofDays(2);
        startAt("2026-11-10T00:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-10", 1, 1000);
        clockTo("2026-11-20T00:00:00Z");
        restartWith(GRACE, "2026-11-20T00:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-20", 1, 1000);

        clockTo("2026-12-01T01:00:00Z");
        assertThat(statements.readValue().statementId()).isEqualTo("acme-2026-11-final");
        clockTo("2026-12-02T23:50:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-25", 1, 1000);
        clockTo("2026-12-02T23:50:10Z");
        assertThat(statements.readValue().statementId()).isEqualTo("acme-2026-11-adj-1");
        send("acme", "c1", "geocoding-stored", "2026-11-26", 1, 1000);

        clockTo("2026-12-03T00:00:00Z"); // the close under the two-day grace
        assertThat(statements.isEmpty()).as("10 minutes after adj-1").isTrue();
        clockTo("2026-12-03T00:50:00Z");
        assertThat(statements.isEmpty()).isTrue();
        clockTo("2026-12-03T00:50:10Z");
        Statement second = statements.readValue();
        assertThat(second.statementId()).isEqualTo("acme-2026-11-adj-2");
        assertThat(second.issuedAt()).isEqualTo(Instant.parse("2026-12-03T00:50:10Z"));
        assertThat(second.amountDue()).isEqualTo(new BigDecimal("4.00"));
        clockTo("2026-12-03T03:00:00Z");
        assertThat(statements.isEmpty()).isTrue();
    }

    /**
     * A grace raised after a cycle's usage came, before its close (an operator holding the bills while metering lags):
     * the close queued under the former grace waits for the new one, and the usage that arrives meanwhile is in the
     * final. It was issued at the former close, the lagging usage an adjustment after it.
     */
    @Test
    void aGraceRaisedBeforeTheCloseHoldsTheFinalBack() {
        startAt("2026-11-30T12:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-30", 10, 1000);
        restartWith(Duration.ofHours(6), "2026-12-01T00:20:00Z");

        clockTo("2026-12-01T01:00:10Z"); // the close under the former grace
        clockTo("2026-12-01T03:00:00Z");
        assertThat(statements.isEmpty()).isTrue();
        send("acme", "c1", "geocoding-stored", "2026-11-30", 15, 1500); // metering caught up
        clockTo("2026-12-01T06:00:10Z");
        Statement last = statements.readValue();
        assertThat(last.statementId()).isEqualTo("acme-2026-11-final");
        assertThat(last.amountDue()).isEqualTo(new BigDecimal("6.00"));
        assertThat(last.issuedAt()).isEqualTo(Instant.parse("2026-12-01T06:00:10Z"));
        clockTo("2026-12-01T08:00:00Z");
        assertThat(statements.isEmpty()).isTrue();
    }

    /** Every day back to zero before the close (a tombstone here): no usage, so no statement, not an empty final. */
    @Test
    void anAccountWhoseUsageWentBackToZeroBeforeTheCloseGetsNoStatement() {
        startAt("2026-11-03T10:00:00Z");
        send("acme", "c1", "geocoding-stored", "2026-11-03", 1, 250);
        send("acme", "c1", "geocoding-stored", "2026-11-04", 2, 500);
        send("acme", "c1", "geocoding-stored", "2026-11-03", 0, 0);
        usage.pipeInput(new UsageDaily("acme", "c1", "geocoding-stored", LocalDate.parse("2026-11-04"), 0, 0).key(),
                null);
        clockTo("2026-12-01T01:00:10Z");
        assertThat(statements.isEmpty()).isTrue();
        assertThat(driver.<String, CycleState>getKeyValueStore(BillingTopology.CYCLES_STORE).get("acme/2026-11"))
                .as("closed as for an account without usage").isNull();

        // usage of the cycle arriving later still gets its final statement, once the ledger has read its input
        send("acme", "c1", "geocoding-stored", "2026-11-05", 1, 250);
        clockTo("2026-12-01T01:00:40Z");
        Statement last = statements.readValue();
        assertThat(last.statementId()).isEqualTo("acme-2026-11-final");
        assertThat(last.amountDue()).isEqualTo(new BigDecimal("1.00"));
    }

    /** Restarts the ledger at {@code at} with another grace, its stores as its changelogs restore them. */
    private void restartWith(Duration newGrace, String at) {
        Map<String, Map<String, Object>> restored = storeContents(BillingTopology.CYCLES_STORE,
                BillingTopology.USAGE_STORE, BillingTopology.STATEMENTS_STORE, BillingTopology.PENDING_STORE);
        driver.close();
        grace = newGrace;
        startAt(at);
        restore(restored);
    }

    private Map<String, Map<String, Object>> storeContents(String... stores) {
        Map<String, Map<String, Object>> contents = new HashMap<>();
        for (String store : stores) {
            Map<String, Object> entries = new HashMap<>();
            try (var all = driver.<String, Object>getKeyValueStore(store).all()) {
                all.forEachRemaining(entry -> entries.put(entry.key, entry.value));
            }
            contents.put(store, entries);
        }
        return contents;
    }

    private void restore(Map<String, Map<String, Object>> contents) {
        contents.forEach((store, entries) -> entries.forEach(
                (key, value) -> driver.<String, Object>getKeyValueStore(store).put(key, value)));
    }

    @Test
    void usageThatCannotBeAttributedGoesToTheDeadLettersAndTheRestIsBilled() {
        startAt("2026-11-03T10:00:00Z");
        usage.pipeInput("not-a-usage-key", null);
        send("acme", "c1", "geocoding-stored", "2026-11-03", 1, 250);

        TestOutputTopic<byte[], byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS,
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(deadLetters.readRecordsToList()).singleElement()
                .satisfies(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("not-a-usage-key"));
        clockTo("2026-12-01T01:00:00Z");
        assertThat(statements.readValue().amountDue()).isEqualTo(new BigDecimal("1.00"));
        assertThat(statements.isEmpty()).isTrue();
    }

    @Test
    void aCloseWithMoreAccountsThanOnePunctuationSettlesContinuesAtTheNextOnesWithoutRepeats() {
        startAt("2026-11-20T00:00:00Z");
        int accounts = LedgerLimits.DEFAULTS.maxSettledPerPunctuation() + 300;
        for (int i = 0; i < accounts; i++) {
            send("acct-" + i, "c1", "geocoding-stored", "2026-11-02", 1, 250);
        }
        clockTo("2026-12-01T01:00:00Z");
        List<String> issued = new java.util.ArrayList<>(statements.readKeyValuesToList().stream().map(kv -> kv.key).toList());
        assertThat(issued).isNotEmpty().hasSizeLessThan(accounts);

        Instant next = current;
        while (issued.size() < accounts && next.isBefore(Instant.parse("2026-12-01T02:00:00Z"))) {
            next = next.plus(BillingTopology.CHECK_INTERVAL);
            clockTo(next.toString());
            statements.readKeyValuesToList().forEach(kv -> issued.add(kv.key));
        }
        assertThat(issued).hasSize(accounts).doesNotHaveDuplicates().allMatch(id -> id.endsWith("-2026-11-final"));
    }

    @Test
    void namesOfDeletedCredentialsAreKeptForTheReports() {
        startAt("2026-11-03T10:00:00Z");
        Instant at = Instant.parse("2026-11-01T00:00:00Z");
        credentials.pipeInput("c1", new CredentialEvent.CredentialCreated("e1", "c1", "acme", 1, at, "Web app",
                List.of("premium:user:geocode:temporary"), List.of(), List.of()));
        credentials.pipeInput("c1", new CredentialEvent.CredentialDeleted("e2", "c1", "acme", 2, at.plusSeconds(60)));
        send("acme", "c1", "geocoding", "2026-11-02", 1, 10);

        KeyValueStore<String, CredentialInfo> names = driver.getKeyValueStore(BillingTopology.CREDENTIALS_STORE);
        assertThat(names.get("acme/c1").name()).isEqualTo("Web app");
        assertThat(names.get("acme/c1").deletedAt()).isEqualTo(at.plusSeconds(60));
        KeyValueStore<String, Totals> days = driver.getKeyValueStore(BillingTopology.USAGE_STORE);
        assertThat(days.get("acme/2026-11/c1/geocoding/2026-11-02")).isEqualTo(new Totals(1, 10));
        assertThat(statements.isEmpty()).isTrue();
    }
}
