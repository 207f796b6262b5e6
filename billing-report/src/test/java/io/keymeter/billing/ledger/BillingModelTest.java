package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.keymeter.billing.catalog.CatalogProperties;
import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.billing.reports.LedgerStores;
import io.keymeter.billing.reports.ReportViews.CredentialUsage;
import io.keymeter.billing.reports.ReportViews.CycleView;
import io.keymeter.billing.reports.ReportViews.DailyUsage;
import io.keymeter.billing.reports.ReportViews.DayUsage;
import io.keymeter.billing.reports.ReportViews.ServiceUsage;
import io.keymeter.billing.reports.ReportViews.StatementList;
import io.keymeter.billing.reports.ReportViews.StatementView;
import io.keymeter.billing.reports.ReportViews.UsageReport;
import io.keymeter.billing.reports.UsageReports;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.platform.web.ApiProblem;
import java.lang.reflect.Constructor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The production billing topology and Streams configuration against a model of what billing promises, on seeded
 * random histories spanning two to four UTC months (month and year ends, leap day 2028-02-29): daily usage totals of
 * several accounts, credentials and services (free allowances, zero prices, half-even ties), sent as metering sends
 * them (rising through the day, re-sent unchanged, now and then corrected down or removed by a tombstone), also late:
 * after the day, within the close grace, and long after the cycle closed; credential names (some a spreadsheet would
 * run as formulas) and rejections; and the wall clock moving in 10 s punctuations, tightly around every close.
 * <p>
 * The model is the contract (CONTRACT §3, §4; the module README where the contract is silent), not the
 * implementation: a cycle is a UTC month; a day's latest totals replace the earlier ones (a tombstone: zero); per
 * account, cycle and service the free units are {@code min(units, free)} once, the amount is
 * {@code (units - free) / 1000 × price} rounded half-even to the currency's minor unit once per line; an account with
 * usage gets exactly one final statement once its cycle's close ({@code end + close-grace}) has passed, billing what
 * the ledger holds when it is issued; a change to a closed cycle is billed by one adjustment (per service: the line now
 * minus the line billed) at the first punctuation at least {@code adjustment-interval} after the cycle's last
 * statement. Compared exactly (BigDecimal with its scale, statement by statement, at the punctuation that issued it):
 * every statement on {@code keymeter.billing-statements}; and, at checkpoints, through the production
 * {@link UsageReports} over the driver's stores, the usage report (status, per credential and per service, amount
 * due), the daily timelines, the CSV and the statement list of every account and cycle.
 * <p>
 * When a final is issued is modelled as the README's "read up to the close first" allows: it must be issued at a
 * punctuation at or after the close once no input has come for 30 s or a record stamped at or after the close has been
 * read, may be issued at one before that (the hour's cap), and must not wait more than the hour: each history has a
 * backlog of late totals read for over an hour after one close, so the cap is reached. In the middle of each history
 * billing restarts (the stores kept, as its changelogs restore them) with another catalog, in one setup another
 * currency: a cycle keeps the prices it closed with (its adjustments and reports), an open one closes at the new ones;
 * the restart forgets the task's stream time and the final's wait.
 * <p>
 * The reports are the production {@link UsageReports} and {@link LedgerStores}, built through their package-private
 * constructors (reflection) over mocks that hand out the driver's stores as Kafka Streams' queries would.
 * <p>
 * A seed picks the history and the setup (currency, catalog, grace): seeds 1, 2, 3 (the default) run each setup once,
 * and reach leap day 2028-02-29 (seed 1) and a year end (seed 2). Longer runs: {@code -Dmodel.seeds=1,2,3,...} and
 * {@code -Dmodel.actions=N}.
 */
class BillingModelTest {

    private static final int ACTIONS = Integer.getInteger("model.actions", 500);
    /**
     * Whether the restart also changes {@code close-grace} (README: an open cycle then closes at the earlier of the
     * two graces its usage came under, or at the new one if that is later); {@code -Dmodel.graceChange=false} keeps it.
     */
    private static final boolean GRACE_CHANGE = Boolean.parseBoolean(System.getProperty("model.graceChange", "true"));
    private static final long TICK = BillingTopology.CHECK_INTERVAL.toMillis();
    private static final long IDLE = Duration.ofSeconds(30).toMillis();
    private static final long MAX_CATCH_UP = Duration.ofHours(1).toMillis();
    private static final long MINUTE = 60_000;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;
    /** The first month of a seed's history: seed 1 reaches leap day 2028-02-29, seed 2 a year end. */
    private static final List<YearMonth> FIRST_MONTHS = List.of(YearMonth.of(2026, 11), YearMonth.of(2028, 1),
            YearMonth.of(2027, 12), YearMonth.of(2026, 10), YearMonth.of(2028, 2), YearMonth.of(2026, 12),
            YearMonth.of(2027, 11));
    private static final List<String> ACCOUNTS = List.of("acme", "globex", "initech", "umbrella");
    private static final List<String> SERVICES = List.of("basemaps", "geocoding", "geocoding-stored", "routing",
            "places", "elevation", "demographics", "spatial-analysis", "content");
    private static final List<String> NAMES = List.of("Web app", "Acme, \"West\"", "=HYPERLINK(\"http://x\")",
            " +1 mobile", "Line\nbreak", "@home", "-minus", "\tTabbed", "\uff1dwide", "plain");
    private static final BigDecimal THOUSAND = BigDecimal.valueOf(1000);

    /**
     * A billing configuration: the currency, catalog entries replacing defaults, and the close grace; and the
     * currency and entries it is restarted with in the middle of the history (the ledger's stores kept).
     */
    record Setup(String name, String currency, List<CatalogProperties.ServiceEntry> entries, Duration grace,
                 String restartCurrency, List<CatalogProperties.ServiceEntry> restartEntries) {

        /** The grace after the restart: another, or with {@code -Dmodel.graceChange=false} the same. */
        Duration restartGrace() {
            return GRACE_CHANGE ? GRACES_AFTER_RESTART.get(grace) : grace;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Setup> SETUPS = List.of(
            new Setup("USD, default catalog, PT1H grace", "USD", List.of(), Duration.ofHours(1),
                    "USD", List.of(entry("geocoding-stored", "5.00", 0L), entry("geocoding", "0.50", 1000L),
                    entry("basemaps", "0.20", 2_000_000L))),
            new Setup("JPY, repriced, no grace", "JPY", List.of(
                    entry("geocoding", "3", 500L), entry("routing", "15", 1000L),
                    entry("spatial-analysis", "0.5", 0L)), Duration.ZERO, "USD", List.of()),
            new Setup("KWD, repriced, P2D grace", "KWD", List.of(
                    entry("routing", "0.4", 5000L), entry("places", "0.125", 0L),
                    entry("basemaps", "0.0005", 100L)), Duration.ofDays(2),
                    "KWD", List.of(entry("routing", "0.5", 0L), entry("places", "0.125", 0L),
                    entry("basemaps", "0.0005", 100L), entry("elevation", "0", 0L))));

    /**
     * The grace each setup's is changed to at the restart. A cycle whose usage came under both graces keeps a pending
     * entry at the later close; come due after the final, it issued an adjustment before the adjustment interval had
     * passed since the cycle's last statement (seed 5: {@code initech-2027-01-adj-1} at 2027-02-01T01:00:00Z, 37 min
     * after its final), until {@code LedgerProcessor.settle} put such an entry off to the interval's end.
     */
    private static final Map<Duration, Duration> GRACES_AFTER_RESTART = Map.of(Duration.ofHours(1), Duration.ofDays(2),
            Duration.ZERO, Duration.ofHours(1), Duration.ofDays(2), Duration.ofHours(1));

    private static CatalogProperties.ServiceEntry entry(String service, String price, Long free) {
        return new CatalogProperties.ServiceEntry(service, null, new BigDecimal(price), free);
    }

    @TempDir
    Path dataDir;

    static Stream<Arguments> runs() {
        return Arrays.stream(System.getProperty("model.seeds", "1,2,3").split(","))
                .map(String::trim).map(Long::parseLong)
                .map(seed -> Arguments.of(seed, SETUPS.get((int) Math.floorMod(seed - 1, SETUPS.size()))));
    }

    @ParameterizedTest(name = "seed {0}, {1}")
    @MethodSource("runs")
    void theLedgerBillsWhatTheModelSays(long seed, Setup setup) throws Exception {
        Scenario scenario = new Scenario(new Random(seed), ACTIONS, FIRST_MONTHS.get((int) Math.floorMod(seed,
                FIRST_MONTHS.size())), Math.max(setup.grace().toMillis(), setup.restartGrace().toMillis()));
        Model model = new Model(ModelPrices.of(setup.currency(), setup.entries()), setup.grace().toMillis(),
                Duration.ofHours(1).toMillis(), scenario.start);
        long started = System.nanoTime();
        Run run = start(setup.currency(), setup.entries(), setup.grace(), scenario.start, null);
        try {
            int checkpoints = 0;
            for (int i = 0; i < scenario.ops.size(); i++) {
                Op op = scenario.ops.get(i);
                if (op.at() > run.now) {
                    run.advanceTo(op.at());
                    model.punctuation(run.now, run.statements.readValuesToList());
                }
                if (i == scenario.restartAt) {
                    // a new version with another catalog: the ledger's stores as its changelogs restore them
                    assertThat(run.deadLetters.readRecordsToList()).as("records sent to the dead letters").isEmpty();
                    Run restarted = start(setup.restartCurrency(), setup.restartEntries(), setup.restartGrace(),
                            run.now, run);
                    run = restarted;
                    model.restarted(ModelPrices.of(setup.restartCurrency(), setup.restartEntries()),
                            setup.restartGrace().toMillis(), run.now);
                    checkReports(run, model, scenario);
                }
                run.pipe(op);
                model.apply(op);
                assertThat(run.statements.isEmpty()).as("statements are issued only by punctuations").isTrue();
                if (i % 97 == 96) {
                    checkReports(run, model, scenario);
                    checkpoints++;
                }
            }
            // the settlement: every close and every adjustment due passes, a punctuation every 10 s at first
            long last = Math.max(run.now, scenario.lastClose);
            for (long t = run.now + TICK; t <= last + 2 * MINUTE; t += TICK) {
                run.advanceTo(t);
                model.punctuation(t, run.statements.readValuesToList());
            }
            for (long t = run.now + 10 * MINUTE; t <= last + 3 * HOUR; t += 10 * MINUTE) {
                run.advanceTo(t);
                model.punctuation(t, run.statements.readValuesToList());
            }
            checkReports(run, model, scenario);

            model.assertSettled(run.now);
            assertThat(run.deadLetters.readRecordsToList()).as("records sent to the dead letters").isEmpty();
            long now = run.now;
            try (KeyValueIterator<String, String> pending = run.driver.<String, String>getKeyValueStore(
                    BillingTopology.PENDING_STORE).all()) {
                pending.forEachRemaining(entry -> assertThat(StoreKeys.pendingDueAt(entry.key))
                        .as("work left pending and due: %s", entry.key).isGreaterThan(now));
            }
            model.stats.assertReachedEveryCase(scenario);
            System.out.printf("seed %d, %s: %s .. %s, %d ops, restarted at %s, %d punctuations, %d report "
                            + "checkpoints, %s, %d ms%n", seed, setup, Instant.ofEpochMilli(scenario.start),
                    Instant.ofEpochMilli(run.now), scenario.ops.size(),
                    Instant.ofEpochMilli(scenario.ops.get(scenario.restartAt).at()), model.punctuations,
                    checkpoints + 1, model.stats, (System.nanoTime() - started) / 1_000_000);
        } finally {
            run.driver.close();
        }
    }

    /** Every store of the ledger. */
    private static final List<String> STORES = List.of(BillingTopology.USAGE_STORE, BillingTopology.CREDENTIALS_STORE,
            BillingTopology.REJECTIONS_STORE, BillingTopology.REJECTION_REASONS_STORE, BillingTopology.CYCLES_STORE,
            BillingTopology.PENDING_STORE, BillingTopology.STATEMENTS_STORE, BillingTopology.ALERTS_STORE);

    /**
     * The production topology and Streams configuration on a driver whose wall clock starts at {@code at}; after
     * {@code before} (closed here), with its stores' contents, as a restarted instance restores them.
     */
    private Run start(String currency, List<CatalogProperties.ServiceEntry> entries, Duration grace, long at,
                      Run before) throws Exception {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null, null,
                new KeymeterProperties.Billing(grace, currency, null), null, null);
        PriceCatalog catalog = new CatalogProperties(null, entries).toCatalog(properties.billing().currency());
        RunningPartitions running = new RunningPartitions();
        Properties config = StreamsFactory.config(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, BillingTopology.APP_NAME, BillingTopology.streamsOverrides());
        BillingTopology topology = new BillingTopology(catalog, properties.billing().closeGrace(),
                properties.billing().adjustmentInterval(), running);
        Map<String, List<KeyValue<String, Object>>> contents = new HashMap<>();
        if (before != null) {
            for (String store : STORES) {
                List<KeyValue<String, Object>> entriesOf = new ArrayList<>();
                try (KeyValueIterator<String, Object> all = before.driver.<String, Object>getKeyValueStore(store).all()) {
                    all.forEachRemaining(entriesOf::add);
                }
                contents.put(store, entriesOf);
            }
            before.driver.close();
        }
        TopologyTestDriver driver = new TopologyTestDriver(topology.build(), config, Instant.ofEpochMilli(at));
        contents.forEach((store, kept) -> kept.forEach(entry ->
                driver.<String, Object>getKeyValueStore(store).put(entry.key, entry.value)));
        return new Run(driver, at, running, catalog, properties);
    }

    // ------------------------------------------------------------------------------------------------ the scenario

    /** Something that happens at a wall-clock time ({@code at}, on the 10 s punctuation grid). */
    sealed interface Op permits UsageOp, CredentialOp, RejectOp, TickOp {
        long at();
    }

    /** A day's totals on {@code keymeter.usage-daily} ({@code tombstone}: a null value), stamped {@code recordTime}. */
    record UsageOp(long at, String account, String credential, String service, LocalDate date, long requests,
                   long units, boolean tombstone, long recordTime, Kind kind) implements Op {
    }

    enum Kind { RISE, RESEND, LATE, DECREASE, TOMBSTONE, TOMORROW, HUGE }

    /** {@code credential-created} (a name) or {@code credential-deleted}. */
    record CredentialOp(long at, String account, String credential, String name, boolean deleted) implements Op {
    }

    /** A rejection; {@code credential} null for an unknown key (no account's). */
    record RejectOp(long at, String account, String credential, RejectionReason reason, long timestamp) implements Op {
    }

    /** The wall clock moving on: one punctuation. */
    record TickOp(long at) implements Op {
    }

    /** A seeded history, in wall-clock order. */
    static final class Scenario {
        final Random random;
        final long start;
        final YearMonth first;
        final YearMonth last;
        final long end;
        final long lastClose;
        final long grace;
        final List<Op> ops = new ArrayList<>();
        final Map<String, List<String>> credentials = new LinkedHashMap<>();
        /** What was last sent for each usage key, {requests, units}. */
        private final Map<String, long[]> sent = new HashMap<>();
        private final List<String> sentKeys = new ArrayList<>();
        private final Map<String, UsageOp> lastOf = new HashMap<>();
        /** The op before which billing restarts with another catalog. */
        final int restartAt;
        /** The backlog: the month whose late totals it carries, and when it is read. */
        private YearMonth backlogMonth;
        private long backlogFrom;
        private long backlogTo;

        Scenario(Random random, int actions, YearMonth first, long grace) {
            this.random = random;
            this.first = first;
            this.grace = grace;
            this.last = first.plusMonths(1 + random.nextInt(3));
            this.start = millis(first.atDay(1));
            this.end = millis(last.plusMonths(1).atDay(1));
            this.lastClose = end + grace;
            ACCOUNTS.forEach(a -> credentials.put(a, List.of(a + "-c1", a + "-c2", a + "-c3")));
            List<Long> times = new ArrayList<>();
            List<Long> monthEnds = new ArrayList<>();
            for (YearMonth m = first; !m.isAfter(last); m = m.plusMonths(1)) {
                monthEnds.add(millis(m.plusMonths(1).atDay(1)));
            }
            for (int i = 0; i < actions; i++) {
                int r = random.nextInt(100);
                long t;
                if (r < 80) { // anywhere in the months
                    t = start + (long) (random.nextDouble() * (end - start));
                } else { // around a month's end and its close
                    long monthEnd = monthEnds.get(random.nextInt(monthEnds.size()));
                    long close = monthEnd + grace;
                    t = switch (r % 5) {
                        case 0 -> monthEnd - random.nextInt(40) * MINUTE; // the month's last minutes
                        case 1 -> monthEnd + (long) (random.nextDouble() * (grace + 20 * MINUTE)); // within the grace
                        case 2 -> close + (random.nextInt(13) - 6) * TICK; // around the close
                        case 3 -> close + random.nextInt(4 * 60) * MINUTE; // hours after the close
                        default -> close + (long) (random.nextDouble() * 20 * DAY); // days after it
                    };
                }
                times.add(Math.max(start, grid(t)));
            }
            for (long end : monthEnds) { // punctuations just before, at and after every close
                long close = end + grace;
                for (long t = close - 2 * TICK; t <= close + 6 * TICK; t += TICK) {
                    times.add(t);
                }
                times.add(close + HOUR);
                times.add(close + HOUR + TICK);
            }
            // a backlog read after one close: for over an hour, that month's late totals every 10-20 s, all stamped
            // before the close, so the ledger neither reads up to the close nor goes idle (the hour's cap)
            long monthEnd = monthEnds.get(random.nextInt(monthEnds.size()));
            backlogMonth = YearMonth.from(Instant.ofEpochMilli(monthEnd - 1).atZone(ZoneOffset.UTC));
            backlogFrom = monthEnd + grace + TICK;
            backlogTo = monthEnd + grace + 75 * MINUTE;
            for (long t = backlogFrom; t < backlogTo; t += TICK * (1 + random.nextInt(2))) {
                times.add(t);
            }
            times.sort(Comparator.naturalOrder());
            restartAt = times.size() / 5 + random.nextInt(times.size() * 3 / 5);
            for (long t : times) {
                ops.add(t >= backlogFrom && t < backlogTo ? rise(t, randomKey(backlogMonth.atDay(1
                        + random.nextInt(backlogMonth.lengthOfMonth()))), Kind.LATE) : next(t));
            }
        }

        private static long grid(long t) {
            return t - Math.floorMod(t, TICK);
        }

        private Op next(long t) {
            int r = random.nextInt(100);
            LocalDate today = LocalDate.ofInstant(Instant.ofEpochMilli(t), ZoneOffset.UTC);
            if (r < 52) {
                LocalDate date = t - millis(today) < 2 * HOUR && random.nextInt(5) == 0 ? today.minusDays(1) : today;
                return rise(t, randomKey(date), Kind.RISE);
            }
            if (r < 60 && !sentKeys.isEmpty()) { // the same totals again
                String key = sentKeys.get(random.nextInt(sentKeys.size()));
                UsageOp previous = lastOf.get(key);
                return new UsageOp(t, previous.account(), previous.credential(), previous.service(), previous.date(),
                        previous.requests(), previous.units(), previous.tombstone(), previous.recordTime(), Kind.RESEND);
            }
            if (r < 69 && today.isAfter(first.atDay(1))) { // a day before today, possibly of a closed cycle
                LocalDate date = lateDay(today);
                return rise(t, randomKey(date), Kind.LATE);
            }
            if (r < 72 && !sentKeys.isEmpty()) { // corrected down, or removed
                String key = sentKeys.get(random.nextInt(sentKeys.size()));
                UsageOp previous = lastOf.get(key);
                boolean tombstone = random.nextInt(3) == 0;
                long requests = tombstone ? 0 : previous.requests() / 2;
                long units = tombstone ? 0 : Math.max(requests, previous.units() / 2);
                return record(new UsageOp(t, previous.account(), previous.credential(), previous.service(),
                        previous.date(), requests, units, tombstone, recordTime(t, previous.date()),
                        tombstone ? Kind.TOMBSTONE : Kind.DECREASE));
            }
            if (r < 73 && millis(today.plusDays(1)) - t <= 5 * MINUTE) { // stamped up to 5 minutes ahead
                return rise(t, randomKey(today.plusDays(1)), Kind.TOMORROW);
            }
            if (r < 80) {
                String account = pick(ACCOUNTS);
                long timestamp = t - (long) (random.nextDouble() * 3 * HOUR);
                if (random.nextInt(8) == 0) {
                    return new RejectOp(t, account, null, RejectionReason.UNKNOWN_KEY, timestamp);
                }
                RejectionReason reason = RejectionReason.values()[2 + random.nextInt(RejectionReason.values().length - 2)];
                return new RejectOp(t, account, pick(credentials.get(account)), reason, timestamp);
            }
            if (r < 85) {
                String account = pick(ACCOUNTS);
                return new CredentialOp(t, account, pick(credentials.get(account)), pick(NAMES),
                        random.nextInt(6) == 0);
            }
            return new TickOp(t);
        }

        private LocalDate lateDay(LocalDate today) {
            LocalDate firstDay = first.atDay(1);
            int r = random.nextInt(10);
            YearMonth month = YearMonth.from(firstDay.plusDays(random.nextInt((int) (today.toEpochDay()
                    - firstDay.toEpochDay()))));
            LocalDate date = switch (r) {
                case 0, 1 -> month.atEndOfMonth(); // a month's last day (28, 29, 30 or 31)
                case 2 -> month.atDay(1);
                case 3 -> YearMonth.of(2028, 2).atDay(29); // leap day, when the history has it
                default -> firstDay.plusDays(random.nextInt((int) (today.toEpochDay() - firstDay.toEpochDay())));
            };
            return date.isBefore(today) && !date.isBefore(firstDay) ? date : today.minusDays(1);
        }

        private String[] randomKey(LocalDate date) {
            String account = random.nextInt(12) == 0 ? "umbrella" : pick(ACCOUNTS.subList(0, 3));
            return new String[] {account, pick(credentials.get(account)), pick(SERVICES), date.toString()};
        }

        private UsageOp rise(long t, String[] k, Kind kind) {
            String key = String.join("/", k);
            long[] was = sent.getOrDefault(key, new long[2]);
            long units;
            long requests;
            if (was[1] > 1_000_000_000_000_000_000L) { // beyond a long's reach when added to: the same again
                units = was[1];
                requests = was[0];
            } else if (random.nextInt(400) == 0 && !k[2].equals("content")) {
                kind = Kind.HUGE; // a day's total metering can write, of which a month's sum overflows a long
                requests = was[0] + 1;
                units = 4_000_000_000_000_000_000L + random.nextInt(1_000_000);
            } else {
                long scale = k[2].equals("basemaps") ? 150_000 : 3_000;
                long delta = switch (random.nextInt(10)) {
                    case 0, 1, 2, 3 -> 1 + random.nextInt(40); // small: rounding
                    case 9 -> 1 + random.nextInt((int) (8 * scale)); // a heavy day
                    default -> 1 + random.nextInt((int) scale);
                };
                units = was[1] + delta;
                requests = was[0] + 1 + random.nextInt((int) Math.min(delta, 50));
            }
            LocalDate date = LocalDate.parse(k[3]);
            return record(new UsageOp(t, k[0], k[1], k[2], date, requests, units, false, recordTime(t, date), kind));
        }

        private UsageOp record(UsageOp op) {
            String key = op.account() + "/" + op.credential() + "/" + op.service() + "/" + op.date();
            if (sent.put(key, new long[] {op.requests(), op.units()}) == null) {
                sentKeys.add(key);
            }
            lastOf.put(key, op);
            return op;
        }

        /** Metering stamps a day's totals with its latest request's time: in that day, not after it arrived. */
        private long recordTime(long t, LocalDate date) {
            long dayStart = millis(date);
            long latest = Math.min(t, dayStart + DAY - 1);
            if (latest < dayStart) { // a day just ahead: stamped as its request, minutes ahead
                return dayStart + random.nextInt(60_000);
            }
            return Math.max(dayStart, latest - (long) (random.nextDouble() * Math.min(latest - dayStart + 1, 2 * HOUR)));
        }

        private <T> T pick(List<T> list) {
            return list.get(random.nextInt(list.size()));
        }
    }

    static long millis(LocalDate day) {
        return day.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }

    // -------------------------------------------------------------------------------------------------- the prices

    /**
     * The model's own price list (the README's table and the setup's entries), and the contract's arithmetic: free
     * units once per account, cycle and service, the rest at list price, rounded half-even to the minor unit once per
     * line.
     */
    record ModelPrices(String currency, int scale, Map<String, BigDecimal> price, Map<String, Long> free) {

        static ModelPrices of(String currency, List<CatalogProperties.ServiceEntry> entries) {
            Map<String, BigDecimal> price = new HashMap<>();
            Map<String, Long> free = new HashMap<>();
            String[][] table = {{"basemaps", "0.15", "2000000"}, {"geocoding", "0.50", "20000"},
                    {"geocoding-stored", "4.00", "0"}, {"routing", "0.50", "20000"}, {"places", "0.50", "10000"},
                    {"elevation", "0.30", "10000"}, {"demographics", "10.00", "0"},
                    {"spatial-analysis", "1.00", "0"}, {"content", "0.00", "0"}};
            for (String[] row : table) {
                price.put(row[0], new BigDecimal(row[1]));
                free.put(row[0], Long.parseLong(row[2]));
            }
            entries.forEach(e -> {
                price.put(e.service(), e.pricePer1000());
                free.put(e.service(), e.freeUnits());
            });
            int scale = switch (currency) {
                case "JPY" -> 0;
                case "KWD" -> 3;
                default -> 2;
            };
            return new ModelPrices(currency, scale, price, free);
        }

        /** A price as shown: with at least the currency's decimals. */
        BigDecimal shown(String service) {
            BigDecimal p = price.get(service);
            return p.setScale(Math.max(scale, p.stripTrailingZeros().scale()));
        }

        BigDecimal exact(String service, BigInteger units) {
            return new BigDecimal(units).multiply(price.get(service)).divide(THOUSAND);
        }

        BigDecimal rounded(String service, BigInteger units) {
            return exact(service, units).setScale(scale, RoundingMode.HALF_EVEN);
        }

        StatementLine line(String service, BigInteger requests, BigInteger units) {
            BigInteger freeUnits = units.min(BigInteger.valueOf(free.get(service)));
            BigInteger billable = units.subtract(freeUnits);
            return new StatementLine(service, requests, units, freeUnits, billable, shown(service),
                    rounded(service, billable));
        }

        BigDecimal zero() {
            return BigDecimal.ZERO.setScale(scale);
        }
    }

    // --------------------------------------------------------------------------------------------------- the model

    /** One account's cycle as the contract has it. */
    static final class CycleModel {
        final String account;
        final YearMonth month;
        /** Day totals held: {@code credential/service/date} → {requests, units}, never zero. */
        final TreeMap<String, long[]> days = new TreeMap<>();
        /** credential → reason → rejections. */
        final Map<String, TreeMap<String, Long>> rejections = new TreeMap<>();
        final List<Statement> issued = new ArrayList<>();
        Map<String, StatementLine> billed = Map.of();
        /** The prices its final statement was issued at, which its adjustments and reports keep. */
        ModelPrices closedAt;
        boolean closed;
        long lastIssued;
        /** The first punctuation at or after the close that found it with usage and no final, or -1. */
        long firstDue = -1;
        /** The ledger's cycle state: whether it holds one (open), not, or may hold one (a zero cycle's settlement). */
        Held held = Held.NONE;
        /**
         * The closes it is due at: the end plus the grace in effect when a change of its usage came while it was
         * open (two after a grace changed in the middle of it: it closes at the earlier one, or at the end plus the
         * grace now if later); those passed are settled.
         */
        final TreeSet<Long> closes = new TreeSet<>();
        /** Usage that arrived after the close and was billed in the final (it waited for the input). */
        boolean arrivedAfterClose;

        CycleModel(String account, YearMonth month) {
            this.account = account;
            this.month = month;
        }

        long end() {
            return millis(month.plusMonths(1).atDay(1));
        }

        boolean hasUsage() {
            return !days.isEmpty();
        }
    }

    enum Held { NONE, OPEN, MAYBE }

    /** Things the run must have reached, so that a history too tame to test anything fails. */
    static final class Stats {
        int rises, resends, lates, decreases, tombstones, huge, tomorrow;
        int finals, adjustments, negativeAdjustments, finalsWithPostCloseUsage, finalsAtCap, adjustmentsAtClosingPrices;
        int ties, freeCrossed, zeroPriced, leapDay;
        long slowestFinal;

        void assertReachedEveryCase(Scenario scenario) {
            assertThat(finals).as("final statements").isPositive();
            assertThat(adjustments).as("adjustments").isPositive();
            assertThat(resends).as("totals re-sent unchanged").isPositive();
            assertThat(rises).as("totals rising").isPositive();
            assertThat(lates).as("late days").isPositive();
            assertThat(decreases + tombstones).as("totals corrected down or removed").isPositive();
            assertThat(freeCrossed).as("lines past their free units").isPositive();
            assertThat(zeroPriced).as("lines of a zero price").isPositive();
            if (!scenario.first.isAfter(YearMonth.of(2028, 2)) && !scenario.last.isBefore(YearMonth.of(2028, 2))) {
                assertThat(leapDay).as("usage on 2028-02-29").isPositive();
            }
        }

        @Override
        public String toString() {
            return String.format("usage: %d rises, %d resends, %d late, %d down, %d tombstones, %d huge, %d a day ahead;"
                            + " statements: %d finals (%d with usage that arrived after the close, %d at the hour's"
                            + " cap, slowest %d s after the close), %d adjustments (%d negative, %d at the prices of"
                            + " before the restart); lines: %d half-even ties, %d past the free units, %d at zero"
                            + " price; %d leap-day usage",
                    rises, resends, lates, decreases, tombstones, huge, tomorrow, finals, finalsWithPostCloseUsage,
                    finalsAtCap, slowestFinal / 1000, adjustments, negativeAdjustments, adjustmentsAtClosingPrices,
                    ties, freeCrossed, zeroPriced, leapDay);
        }
    }

    static final class Model {
        /** Today's catalog: what an open cycle is reported and closed at. */
        ModelPrices prices;
        /** The close grace now (another after a restart, unless {@code -Dmodel.graceChange=false}). */
        long grace;
        final long adjustmentInterval;
        final Map<String, CycleModel> cycles = new TreeMap<>();
        final Map<String, String> names = new HashMap<>();
        final Map<String, Boolean> knownCredentials = new HashMap<>();
        final Stats stats = new Stats();
        long lastLedgerInput;
        long streamTime = -1;
        int punctuations;

        Model(ModelPrices prices, long grace, long adjustmentInterval, long start) {
            this.prices = prices;
            this.grace = grace;
            this.adjustmentInterval = adjustmentInterval;
            this.lastLedgerInput = start;
        }

        /** A restart with another catalog: the task's stream time and its wait for the input start again. */
        void restarted(ModelPrices catalog, long newGrace, long now) {
            prices = catalog;
            grace = newGrace;
            streamTime = -1;
            lastLedgerInput = now;
            cycles.values().forEach(c -> c.firstDue = -1);
            restarts++;
        }

        int restarts;

        /** The prices a cycle is billed and reported at: those it closed with, today's while open. */
        ModelPrices pricesOf(CycleModel cycle) {
            return cycle.closed ? cycle.closedAt : prices;
        }

        CycleModel cycle(String account, YearMonth month) {
            return cycles.computeIfAbsent(account + "/" + month, k -> new CycleModel(account, month));
        }

        void apply(Op op) {
            if (op instanceof UsageOp u) {
                usage(u);
            } else if (op instanceof CredentialOp c) {
                lastLedgerInput = c.at();
                streamTime = Math.max(streamTime, c.at());
                knownCredentials.put(c.account() + "/" + c.credential(), true);
                if (!c.deleted()) {
                    names.put(c.account() + "/" + c.credential(), c.name());
                }
            } else if (op instanceof RejectOp r) {
                streamTime = Math.max(streamTime, r.timestamp());
                if (r.credential() != null) {
                    lastLedgerInput = r.at();
                    YearMonth month = YearMonth.from(Instant.ofEpochMilli(r.timestamp()).atZone(ZoneOffset.UTC));
                    cycle(r.account(), month).rejections.computeIfAbsent(r.credential(), k -> new TreeMap<>())
                            .merge(r.reason().code(), 1L, Long::sum);
                }
            }
        }

        private void usage(UsageOp u) {
            lastLedgerInput = u.at();
            streamTime = Math.max(streamTime, u.recordTime());
            switch (u.kind()) {
                case RISE -> stats.rises++;
                case RESEND -> stats.resends++;
                case LATE -> stats.lates++;
                case DECREASE -> stats.decreases++;
                case TOMBSTONE -> stats.tombstones++;
                case HUGE -> stats.huge++;
                case TOMORROW -> stats.tomorrow++;
            }
            if (u.date().equals(LocalDate.of(2028, 2, 29)) && u.units() > 0) {
                stats.leapDay++;
            }
            CycleModel cycle = cycle(u.account(), YearMonth.from(u.date()));
            String day = u.credential() + "/" + u.service() + "/" + u.date();
            long[] next = u.tombstone() ? new long[2] : new long[] {u.requests(), u.units()};
            boolean zero = next[0] == 0 && next[1] == 0;
            long[] previous = cycle.days.get(day);
            if (previous == null ? zero : Arrays.equals(previous, next)) {
                return; // the latest totals again: nothing changes
            }
            if (zero) {
                cycle.days.remove(day);
            } else {
                cycle.days.put(day, next);
            }
            if (!cycle.closed) {
                cycle.held = Held.OPEN;
                cycle.closes.add(cycle.end() + grace);
                if (u.at() >= cycle.end() + grace) {
                    cycle.arrivedAfterClose = true;
                }
            }
        }

        /** The cycle's lines now, per service: the free units applied once to the account's sum. */
        Map<String, StatementLine> lines(CycleModel cycle) {
            Map<String, BigInteger[]> sums = new TreeMap<>();
            cycle.days.forEach((day, totals) -> {
                String service = day.split("/")[1];
                BigInteger[] sum = sums.computeIfAbsent(service, s -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
                sum[0] = sum[0].add(BigInteger.valueOf(totals[0]));
                sum[1] = sum[1].add(BigInteger.valueOf(totals[1]));
            });
            ModelPrices at = pricesOf(cycle);
            Map<String, StatementLine> lines = new TreeMap<>();
            sums.forEach((service, sum) -> lines.put(service, at.line(service, sum[0], sum[1])));
            return lines;
        }

        Statement expectedFinal(CycleModel cycle, long now) {
            List<StatementLine> lines = List.copyOf(lines(cycle).values());
            return new Statement(cycle.account + "-" + cycle.month + "-final", cycle.account, cycle.month.toString(),
                    "final", Instant.ofEpochMilli(now), prices.currency(), lines, sum(prices, lines));
        }

        /** The next adjustment: per service whose requests or units changed, now minus billed; null when none did. */
        Statement expectedAdjustment(CycleModel cycle, long now) {
            Map<String, StatementLine> current = lines(cycle);
            TreeSet<String> services = new TreeSet<>(current.keySet());
            services.addAll(cycle.billed.keySet());
            ModelPrices at = cycle.closedAt;
            List<StatementLine> diff = new ArrayList<>();
            for (String service : services) {
                StatementLine zero = at.line(service, BigInteger.ZERO, BigInteger.ZERO);
                StatementLine was = cycle.billed.getOrDefault(service, zero);
                StatementLine is = current.getOrDefault(service, zero);
                if (was.requests().equals(is.requests()) && was.units().equals(is.units())) {
                    continue;
                }
                diff.add(new StatementLine(service, is.requests().subtract(was.requests()),
                        is.units().subtract(was.units()), is.freeUnits().subtract(was.freeUnits()),
                        is.billableUnits().subtract(was.billableUnits()), at.shown(service),
                        is.amount().subtract(was.amount())));
            }
            if (diff.isEmpty()) {
                return null;
            }
            int n = cycle.issued.size();
            return new Statement(cycle.account + "-" + cycle.month + "-adj-" + n, cycle.account,
                    cycle.month.toString(), "adjustment", Instant.ofEpochMilli(now), at.currency(), diff, sum(at, diff));
        }

        static BigDecimal sum(ModelPrices prices, List<StatementLine> lines) {
            BigDecimal sum = prices.zero();
            for (StatementLine line : lines) {
                sum = sum.add(line.amount());
            }
            return sum;
        }

        /** What a punctuation at {@code now} issued, against what the contract says it must and may issue. */
        void punctuation(long now, List<Statement> issued) {
            punctuations++;
            Map<String, Statement> byCycle = new HashMap<>();
            for (Statement statement : issued) {
                String key = statement.accountId() + "/" + statement.cycle();
                assertThat(byCycle.put(key, statement)).as("one statement per account and cycle at a punctuation: %s",
                        statement.statementId()).isNull();
            }
            for (CycleModel cycle : cycles.values()) {
                Statement statement = byCycle.remove(cycle.account + "/" + cycle.month);
                // a grace raised since holds a close queued under a shorter one back; one lowered since leaves it
                long close = Math.max(cycle.end() + grace, cycle.closes.isEmpty() ? 0 : cycle.closes.first());
                if (!cycle.closed) {
                    boolean due = now >= close;
                    boolean caughtUp = now - lastLedgerInput >= IDLE || streamTime >= close;
                    if (statement != null) {
                        assertThat(due).as("%s issued at %s, before the close %s", statement.statementId(),
                                Instant.ofEpochMilli(now), Instant.ofEpochMilli(close)).isTrue();
                        assertThat(cycle.hasUsage()).as("%s issued for a cycle without usage", statement.statementId())
                                .isTrue();
                        assertThat(statement).as("the final statement at %s", Instant.ofEpochMilli(now))
                                .isEqualTo(expectedFinal(cycle, now));
                        countLines(prices, statement);
                        stats.finals++;
                        if (cycle.arrivedAfterClose) {
                            stats.finalsWithPostCloseUsage++;
                        }
                        if (!caughtUp) {
                            stats.finalsAtCap++;
                        }
                        stats.slowestFinal = Math.max(stats.slowestFinal, now - close);
                        cycle.closed = true;
                        cycle.closes.headSet(now, true).clear();
                        cycle.closedAt = prices;
                        cycle.issued.add(statement);
                        cycle.billed = lines(cycle);
                        cycle.lastIssued = now;
                        continue;
                    }
                    if (!due) {
                        continue;
                    }
                    if (cycle.hasUsage()) {
                        assertThat(caughtUp).as("%s-%s: usage, the close %s passed, the input read up to it (%s since"
                                        + " the last input, stream time %s), and no final at %s", cycle.account,
                                cycle.month, Instant.ofEpochMilli(close), Duration.ofMillis(now - lastLedgerInput),
                                Instant.ofEpochMilli(streamTime), Instant.ofEpochMilli(now)).isFalse();
                        if (cycle.firstDue < 0) {
                            cycle.firstDue = now;
                        }
                        assertThat(now - cycle.firstDue).as("%s-%s: a final waits for the input an hour at most (at"
                                        + " %s, due since %s)", cycle.account, cycle.month, Instant.ofEpochMilli(now),
                                Instant.ofEpochMilli(cycle.firstDue)).isLessThanOrEqualTo(MAX_CATCH_UP + TICK);
                    } else if (cycle.held != Held.NONE) {
                        // a cycle whose every day went back to zero: settled without a statement
                        cycle.held = caughtUp ? Held.NONE : Held.MAYBE;
                        if (caughtUp) {
                            cycle.closes.headSet(now, true).clear();
                        }
                    }
                } else {
                    cycle.closes.headSet(now, true).clear();
                    boolean due = now >= cycle.lastIssued + adjustmentInterval;
                    Statement expected = due ? expectedAdjustment(cycle, now) : null;
                    if (statement == null) {
                        assertThat(expected).as("%s-%s: changed since its last statement at %s, none at %s",
                                cycle.account, cycle.month, Instant.ofEpochMilli(cycle.lastIssued),
                                Instant.ofEpochMilli(now)).isNull();
                        continue;
                    }
                    assertThat(due).as("%s issued at %s, sooner than the adjustment interval after %s",
                            statement.statementId(), Instant.ofEpochMilli(now), Instant.ofEpochMilli(cycle.lastIssued))
                            .isTrue();
                    assertThat(statement).as("the adjustment at %s", Instant.ofEpochMilli(now)).isEqualTo(expected);
                    stats.adjustments++;
                    if (statement.amountDue().signum() < 0) {
                        stats.negativeAdjustments++;
                    }
                    countLines(cycle.closedAt, statement);
                    if (cycle.closedAt != prices) {
                        stats.adjustmentsAtClosingPrices++;
                    }
                    cycle.issued.add(statement);
                    cycle.billed = lines(cycle);
                    cycle.lastIssued = now;
                }
            }
            assertThat(byCycle.values()).as("statements of cycles without usage").isEmpty();
        }

        private void countLines(ModelPrices prices, Statement statement) {
            for (StatementLine line : statement.lines()) {
                BigDecimal exact = prices.exact(line.service(), line.billableUnits().abs());
                if (exact.scale() > prices.scale()
                        && exact.movePointRight(prices.scale()).remainder(BigDecimal.ONE).abs()
                        .compareTo(new BigDecimal("0.5")) == 0) {
                    stats.ties++;
                }
                if (line.billableUnits().signum() > 0 && line.freeUnits().signum() > 0) {
                    stats.freeCrossed++;
                }
                if (prices.price().get(line.service()).signum() == 0) {
                    stats.zeroPriced++;
                }
            }
        }

        /** After the settlement: one final per account and cycle with usage, and the statements add up to it. */
        void assertSettled(long now) {
            for (CycleModel cycle : cycles.values()) {
                if (cycle.end() + grace > now) {
                    assertThat(cycle.issued).as("statements of %s-%s, still open", cycle.account, cycle.month).isEmpty();
                    continue;
                }
                if (!cycle.closed) {
                    assertThat(cycle.hasUsage()).as("%s-%s has usage and no final", cycle.account, cycle.month)
                            .isFalse();
                    continue;
                }
                assertThat(cycle.issued).filteredOn(s -> s.kind().equals("final")).as("finals of %s-%s",
                        cycle.account, cycle.month).hasSize(1);
                assertThat(cycle.issued.get(0).kind()).isEqualTo("final");
                Map<String, StatementLine> summed = new TreeMap<>();
                for (Statement statement : cycle.issued) {
                    for (StatementLine l : statement.lines()) {
                        summed.merge(l.service(), l, (a, b) -> new StatementLine(a.service(),
                                a.requests().add(b.requests()), a.units().add(b.units()),
                                a.freeUnits().add(b.freeUnits()), a.billableUnits().add(b.billableUnits()),
                                a.pricePer1000(), a.amount().add(b.amount())));
                    }
                }
                summed.values().removeIf(l -> l.requests().signum() == 0 && l.units().signum() == 0
                        && l.amount().signum() == 0);
                assertThat(summed).as("%s-%s: the final and its adjustments add up to the whole usage", cycle.account,
                        cycle.month).isEqualTo(lines(cycle));
                BigDecimal total = cycle.issued.stream().map(Statement::amountDue)
                        .reduce(cycle.closedAt.zero(), BigDecimal::add);
                assertThat(total).isEqualTo(sum(cycle.closedAt, List.copyOf(lines(cycle).values())));
            }
        }

        // the reports, as the contract and README describe them

        String status(CycleModel cycle, long now) {
            if (cycle != null && cycle.closed) {
                return "closed";
            }
            Held held = cycle == null ? Held.NONE : cycle.held;
            if (held == Held.MAYBE) {
                return null; // settled or not: either answer
            }
            if (held == Held.OPEN) {
                return "open";
            }
            return now >= cycle.end() + grace ? "closed" : "open";
        }
    }

    // ---------------------------------------------------------------------------------------------------- the run

    /** The driver, its topics, and the production reports over its stores. */
    static final class Run {
        final TopologyTestDriver driver;
        final TestInputTopic<String, UsageDaily> usage;
        final TestInputTopic<String, CredentialEvent> credentials;
        final TestInputTopic<String, Rejection> rejections;
        final TestOutputTopic<String, Statement> statements;
        final TestOutputTopic<byte[], byte[]> deadLetters;
        final MutableClock clock;
        final UsageReports reports;
        long now;
        private int events;

        Run(TopologyTestDriver driver, long start, RunningPartitions running, PriceCatalog catalog,
            KeymeterProperties properties) throws Exception {
            this.driver = driver;
            this.now = start;
            usage = driver.createInputTopic(Topics.USAGE_DAILY.name(), Topics.USAGE_DAILY.keySerde().serializer(),
                    Topics.USAGE_DAILY.valueSerde().serializer());
            credentials = driver.createInputTopic(Topics.CREDENTIAL_EVENTS.name(),
                    Topics.CREDENTIAL_EVENTS.keySerde().serializer(), Topics.CREDENTIAL_EVENTS.valueSerde().serializer());
            rejections = driver.createInputTopic(Topics.REJECTIONS.name(), Topics.REJECTIONS.keySerde().serializer(),
                    Topics.REJECTIONS.valueSerde().serializer());
            statements = driver.createOutputTopic(Topics.BILLING_STATEMENTS.name(),
                    Topics.BILLING_STATEMENTS.keySerde().deserializer(),
                    Topics.BILLING_STATEMENTS.valueSerde().deserializer());
            deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            clock = new MutableClock(Instant.ofEpochMilli(start));
            reports = reports(driver, running, catalog, clock, properties);
        }

        /**
         * The production reports, reading the driver's stores as Kafka Streams' interactive queries would hand them
         * out (the one task is partition 0, and one partition holds every account).
         */
        private static UsageReports reports(TopologyTestDriver driver, RunningPartitions running, PriceCatalog catalog,
                                            Clock clock, KeymeterProperties properties) throws Exception {
            KafkaStreams kafkaStreams = mock(KafkaStreams.class);
            when(kafkaStreams.state()).thenReturn(KafkaStreams.State.RUNNING);
            when(kafkaStreams.store(any())).thenAnswer(call ->
                    driver.getKeyValueStore(call.<StoreQueryParameters<?>>getArgument(0).storeName()));
            StreamsApp streams = mock(StreamsApp.class);
            when(streams.kafkaStreams()).thenReturn(kafkaStreams);
            when(streams.state()).thenReturn(KafkaStreams.State.RUNNING);
            when(streams.config()).thenReturn(new Properties());
            KafkaTopics topics = mock(KafkaTopics.class);
            when(topics.partitions(anyString())).thenReturn(1);
            Constructor<LedgerStores> storesOf = LedgerStores.class.getDeclaredConstructor(StreamsApp.class,
                    KafkaTopics.class, RunningPartitions.class);
            storesOf.setAccessible(true);
            Constructor<UsageReports> reportsOf = UsageReports.class.getDeclaredConstructor(LedgerStores.class,
                    PriceCatalog.class, Clock.class, KeymeterProperties.class);
            reportsOf.setAccessible(true);
            return reportsOf.newInstance(storesOf.newInstance(streams, topics, running), catalog, clock, properties);
        }

        void advanceTo(long t) {
            driver.advanceWallClockTime(Duration.ofMillis(t - now));
            now = t;
            clock.now = Instant.ofEpochMilli(t);
        }

        void pipe(Op op) {
            if (op instanceof UsageOp u) {
                UsageDaily day = new UsageDaily(u.account(), u.credential(), u.service(), u.date(), u.requests(),
                        u.units());
                usage.pipeInput(day.key(), u.tombstone() ? null : day, u.recordTime());
            } else if (op instanceof CredentialOp c) {
                Instant at = Instant.ofEpochMilli(c.at());
                events++;
                CredentialEvent event = c.deleted()
                        ? new CredentialEvent.CredentialDeleted("e" + events, c.credential(), c.account(), events, at)
                        : new CredentialEvent.CredentialCreated("e" + events, c.credential(), c.account(), events,
                        at, c.name(), List.of("premium:user:basemaps"), List.of(), List.of());
                credentials.pipeInput(c.credential(), event, c.at());
            } else if (op instanceof RejectOp r) {
                events++;
                rejections.pipeInput("key-" + r.account(), new Rejection("r-" + events, "key-" + r.account(),
                        r.credential() == null ? null : r.account(), r.credential(), "geocoding", "find", 1, null,
                        null, Instant.ofEpochMilli(r.timestamp()), r.reason()), r.timestamp());
            }
        }
    }

    /** The reports' clock: the driver's wall clock. */
    static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    // ------------------------------------------------------------------------------------------------ the reports

    /** Every account's report, timelines, CSV and statements of every cycle of the history and its neighbours. */
    private static void checkReports(Run run, Model model, Scenario scenario) {
        for (String account : ACCOUNTS) {
            for (YearMonth month = scenario.first.minusMonths(1); !month.isAfter(scenario.last.plusMonths(1));
                 month = month.plusMonths(1)) {
                BillingCycle billingCycle = new BillingCycle(month);
                CycleModel cycle = model.cycles.get(account + "/" + month);
                CycleModel c = cycle != null ? cycle : new CycleModel(account, month);
                String label = account + " " + month + " at " + run.clock.now;

                UsageReport report = run.reports.usage(account, billingCycle, null);
                String status = model.status(c, run.now);
                if (status != null) {
                    assertThat(report.cycle()).as("cycle of %s", label).isEqualTo(new CycleView(month.toString(),
                            billingCycle.start(), billingCycle.end(), status));
                }
                UsageReport expected = expectedReport(model, c, report.cycle(), null);
                assertThat(report).as("usage report of %s", label).isEqualTo(expected);

                String credential = scenario.credentials.get(account).get(
                        Math.floorMod(month.hashCode() + Long.hashCode(run.now), 3));
                boolean known = known(model, c, credential);
                if (known) {
                    assertThat(run.reports.usage(account, billingCycle, credential)).as("usage report of %s for %s",
                            label, credential).isEqualTo(expectedReport(model, c, report.cycle(), credential));
                } else {
                    assertThatThrownBy(() -> run.reports.usage(account, billingCycle, credential))
                            .as("%s unknown in %s", credential, label).isInstanceOfSatisfying(ApiProblem.class,
                                    p -> assertThat(p.status()).as("as if it did not exist").isEqualTo(404));
                }

                LocalDate today = LocalDate.ofInstant(run.clock.now, ZoneOffset.UTC);
                assertThat(run.reports.daily(account, billingCycle, null, null)).as("daily usage of %s", label)
                        .isEqualTo(expectedDaily(c, today, null, null));
                String service = SERVICES.get(Math.floorMod(Long.hashCode(run.now) + account.hashCode(), SERVICES.size()));
                assertThat(run.reports.daily(account, billingCycle, null, service)).as("daily %s of %s", service, label)
                        .isEqualTo(expectedDaily(c, today, null, service));
                if (known) {
                    assertThat(run.reports.daily(account, billingCycle, credential, service))
                            .as("daily %s of %s for %s", service, label, credential)
                            .isEqualTo(expectedDaily(c, today, credential, service));
                }

                assertThat(new String(run.reports.csv(account, billingCycle, null), StandardCharsets.UTF_8))
                        .as("usage CSV of %s", label).isEqualTo(expectedCsv(model, c, null));
                if (known) {
                    assertThat(new String(run.reports.csv(account, billingCycle, credential), StandardCharsets.UTF_8))
                            .as("usage CSV of %s for %s", label, credential).isEqualTo(expectedCsv(model, c, credential));
                }

                StatementList list = run.reports.statements(account, billingCycle);
                assertThat(list.statements()).as("statements of %s", label).isEqualTo(c.issued.stream()
                        .map(s -> new StatementView(s.statementId(), s.cycle(), s.kind(), s.issuedAt(), s.currency(),
                                s.lines(), s.amountDue())).toList());
            }
        }
    }

    private static boolean known(Model model, CycleModel cycle, String credential) {
        return model.knownCredentials.containsKey(cycle.account + "/" + credential)
                || cycle.rejections.containsKey(credential)
                || cycle.days.keySet().stream().anyMatch(day -> day.startsWith(credential + "/"));
    }

    private static UsageReport expectedReport(Model model, CycleModel cycle, CycleView view, String only) {
        ModelPrices prices = model.pricesOf(cycle);
        TreeSet<String> ids = new TreeSet<>(cycle.rejections.keySet());
        Map<String, Map<String, BigInteger[]>> byCredential = new TreeMap<>();
        cycle.days.forEach((day, totals) -> {
            String[] parts = day.split("/");
            ids.add(parts[0]);
            BigInteger[] sum = byCredential.computeIfAbsent(parts[0], k -> new TreeMap<>())
                    .computeIfAbsent(parts[1], k -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
            sum[0] = sum[0].add(BigInteger.valueOf(totals[0]));
            sum[1] = sum[1].add(BigInteger.valueOf(totals[1]));
        });
        if (only != null) {
            ids.clear();
            ids.add(only);
        }
        List<CredentialUsage> credentials = new ArrayList<>();
        for (String id : ids) {
            List<ServiceUsage> services = new ArrayList<>();
            BigDecimal cost = prices.zero();
            for (Map.Entry<String, BigInteger[]> e : byCredential.getOrDefault(id, Map.of()).entrySet()) {
                BigDecimal listCost = prices.rounded(e.getKey(), e.getValue()[1]);
                services.add(new ServiceUsage(e.getKey(), e.getValue()[0], e.getValue()[1], listCost));
                cost = cost.add(listCost);
            }
            Map<String, Long> reasons = cycle.rejections.getOrDefault(id, new TreeMap<>());
            long rejected = reasons.values().stream().mapToLong(Long::longValue).sum();
            credentials.add(new CredentialUsage(id, model.names.get(cycle.account + "/" + id), services, rejected,
                    reasons, cost));
        }
        List<StatementLine> lines = List.copyOf(model.lines(cycle).values());
        return new UsageReport(view, prices.currency(), credentials, lines, Model.sum(prices, lines));
    }

    private static DailyUsage expectedDaily(CycleModel cycle, LocalDate today, String credential, String service) {
        // units may exceed a long when summed over credentials: sum them exactly
        Map<LocalDate, BigInteger[]> exact = new TreeMap<>();
        cycle.days.forEach((day, totals) -> {
            String[] parts = day.split("/");
            if ((credential == null || parts[0].equals(credential)) && (service == null || parts[1].equals(service))) {
                BigInteger[] sum = exact.computeIfAbsent(LocalDate.parse(parts[2]),
                        d -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
                sum[0] = sum[0].add(BigInteger.valueOf(totals[0]));
                sum[1] = sum[1].add(BigInteger.valueOf(totals[1]));
            }
        });
        LocalDate firstDay = cycle.month.atDay(1);
        LocalDate lastDay = cycle.month.atEndOfMonth();
        LocalDate until = today;
        for (LocalDate day : exact.keySet()) {
            if (day.isAfter(until)) {
                until = day;
            }
        }
        if (until.isAfter(lastDay)) {
            until = lastDay;
        }
        List<DayUsage> days = new ArrayList<>();
        for (LocalDate day = firstDay; !day.isAfter(until); day = day.plusDays(1)) {
            BigInteger[] sum = exact.getOrDefault(day, new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
            days.add(new DayUsage(day, sum[0], sum[1]));
        }
        return new DailyUsage(days);
    }

    /**
     * RFC 4180, CRLF, the header as the contract writes it, every field of a row quoted (quotes doubled), a name a
     * spreadsheet would run as a formula led by {@code '}; a row's cost its exact list price, at least the currency's
     * decimals.
     */
    private static String expectedCsv(Model model, CycleModel cycle, String only) {
        StringBuilder csv = new StringBuilder("date,credential_id,credential_name,service,requests,units,cost\r\n");
        List<String[]> rows = new ArrayList<>();
        cycle.days.forEach((day, totals) -> {
            String[] parts = day.split("/");
            if (only == null || parts[0].equals(only)) {
                rows.add(new String[] {parts[2], parts[0], parts[1], Long.toString(totals[0]), Long.toString(totals[1])});
            }
        });
        rows.sort(Comparator.<String[], String>comparing(r -> r[0]).thenComparing(r -> r[1]).thenComparing(r -> r[2]));
        for (String[] r : rows) {
            String name = model.names.get(cycle.account + "/" + r[1]);
            ModelPrices prices = model.pricesOf(cycle);
            BigDecimal exact = prices.exact(r[2], new BigInteger(r[4])).stripTrailingZeros();
            BigDecimal cost = exact.setScale(Math.max(prices.scale(), exact.scale()));
            Stream.of(r[0], r[1], name == null ? "" : defused(name), r[2], r[3], r[4], cost.toPlainString())
                    .map(field -> "\"" + field.replace("\"", "\"\"") + "\"")
                    .reduce((a, b) -> a + "," + b).ifPresent(csv::append);
            csv.append("\r\n");
        }
        return csv.toString();
    }

    private static String defused(String name) {
        int i = 0;
        while (i < name.length() && (name.charAt(i) == ' ' || Character.isSpaceChar(name.charAt(i)))) {
            i++;
        }
        char first = i < name.length() ? name.charAt(i) : 'a';
        return "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20".indexOf(first) >= 0 ? "'" + name : name;
    }
}
