package io.keymeter.billing.reports;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.billing.cycles.StatementCalculator;
import io.keymeter.billing.cycles.Totals;
import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.billing.ledger.CredentialInfo;
import io.keymeter.billing.ledger.CycleState;
import io.keymeter.billing.ledger.StoreKeys;
import io.keymeter.billing.reports.ReportViews.AlertList;
import io.keymeter.billing.reports.ReportViews.AlertView;
import io.keymeter.billing.reports.ReportViews.CredentialUsage;
import io.keymeter.billing.reports.ReportViews.CycleView;
import io.keymeter.billing.reports.ReportViews.DailyUsage;
import io.keymeter.billing.reports.ReportViews.DayUsage;
import io.keymeter.billing.reports.ReportViews.ServiceUsage;
import io.keymeter.billing.reports.ReportViews.StatementList;
import io.keymeter.billing.reports.ReportViews.StatementView;
import io.keymeter.billing.reports.ReportViews.UsageReport;
import io.keymeter.events.CredentialIds;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.web.ApiProblem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.springframework.stereotype.Component;

/**
 * Answers the usage and billing reports of one account from the billing ledger's stores. Report totals, the daily
 * timeline and the CSV are all read from the same usage store, so they agree.
 */
@Component
public class UsageReports {

    private static final StringSerializer KEYS = new StringSerializer();

    private final LedgerStores stores;
    private final PriceCatalog catalog;
    private final Clock clock;
    private final KeymeterProperties properties;

    UsageReports(LedgerStores stores, PriceCatalog catalog, Clock clock, KeymeterProperties properties) {
        this.stores = stores;
        this.catalog = catalog;
        this.clock = clock;
        this.properties = properties;
    }

    /** One day of one credential and service, as the usage store holds it. */
    record Row(LocalDate date, String credentialId, String service, Totals totals) {
    }

    /** A row with its list price at the cycle's prices. */
    private record PricedRow(Row row, BigDecimal cost) {
    }

    /**
     * The cycle's report. {@code credentialId} (nullable) narrows {@code credentials[]} only: {@code services[]} and
     * {@code amountDue} are always the account's bill, because free units apply per account.
     */
    public UsageReport usage(String accountId, BillingCycle cycle, String credentialId) {
        return stores.read(() -> {
            List<Row> rows = rows(accountId, cycle);
            PriceCatalog prices = prices(accountId, cycle);
            Map<String, Long> rejected = rejections(accountId, cycle);
            Map<String, Map<String, Long>> reasons = rejectionReasons(accountId, cycle);
            if (credentialId != null) {
                requireCredential(accountId, credentialId, rows, rejected);
            }
            TreeSet<String> credentialIds = new TreeSet<>(rejected.keySet());
            rows.forEach(r -> credentialIds.add(r.credentialId()));
            if (credentialId != null) {
                credentialIds.retainAll(List.of(credentialId));
                credentialIds.add(credentialId);
            }
            Map<String, Map<String, Totals>> byCredential = new TreeMap<>();
            rows.forEach(r -> byCredential.computeIfAbsent(r.credentialId(), id -> new TreeMap<>())
                    .merge(r.service(), r.totals(), Totals::plus));
            List<CredentialUsage> credentials = new ArrayList<>();
            for (String id : credentialIds) {
                Map<String, Totals> byService = byCredential.getOrDefault(id, Map.of());
                List<ServiceUsage> services = byService.entrySet().stream()
                        .map(e -> new ServiceUsage(e.getKey(), e.getValue().requests(), e.getValue().units(),
                                prices.listCost(e.getKey(), e.getValue().units())))
                        .toList();
                BigDecimal cost = services.stream().map(ServiceUsage::cost).reduce(prices.zero(), BigDecimal::add);
                credentials.add(new CredentialUsage(id, name(accountId, id), services, rejected.getOrDefault(id, 0L),
                        reasons.getOrDefault(id, Map.of()), cost));
            }
            Map<String, Totals> accountTotals = new TreeMap<>();
            rows.forEach(r -> accountTotals.merge(r.service(), r.totals(), Totals::plus));
            StatementCalculator calculator = new StatementCalculator(prices);
            List<StatementLine> lines = calculator.lines(accountTotals);
            return new UsageReport(cycleView(accountId, cycle), prices.currency(), credentials, lines,
                    calculator.sum(lines));
        });
    }

    /**
     * One entry per day of the cycle up to today (UTC), or the last day with usage if later, zeros included.
     * Without {@code credentialId} the days sum every credential of the account; without {@code service}, every
     * service.
     */
    public DailyUsage daily(String accountId, BillingCycle cycle, String credentialId, String service) {
        return stores.read(() -> {
            List<Row> rows = rows(accountId, cycle);
            if (credentialId != null) {
                requireCredential(accountId, credentialId, rows, rejections(accountId, cycle));
            }
            TreeMap<LocalDate, Totals> byDay = new TreeMap<>();
            rows.stream()
                    .filter(r -> credentialId == null || r.credentialId().equals(credentialId))
                    .filter(r -> service == null || r.service().equals(service))
                    .forEach(r -> byDay.merge(r.date(), r.totals(), Totals::plus));
            // up to today, or to the last day with usage when that is later: a request may be stamped minutes ahead
            // (ingest's max-future-skew), and the timeline dropped what the report and the CSV counted
            LocalDate today = LocalDate.now(clock);
            LocalDate until = byDay.isEmpty() || !byDay.lastKey().isAfter(today) ? today : byDay.lastKey();
            List<DayUsage> days = cycle.daysUpTo(until).stream()
                    .map(day -> {
                        Totals totals = byDay.getOrDefault(day, Totals.ZERO);
                        return new DayUsage(day, totals.requests(), totals.units());
                    })
                    .toList();
            return new DailyUsage(days);
        });
    }

    /**
     * The cycle's usage as CSV, one row per day, credential and service with usage, ordered by date, credential and
     * service. {@code cost} is the row's list price exactly, not rounded (at least the currency's decimals). Written straight to UTF-8
     * bytes, the answer's body: as a {@code String} the text was held three times over (the writer's buffer, the
     * string, its bytes for the answer): at about 110 bytes a row, some 50 MB each (an estimate, not measured) for an
     * account of 5,000 credentials using three services every day of a month.
     */
    public byte[] csv(String accountId, BillingCycle cycle, String credentialId) {
        // priced in the same read as the rows: a cycle closing between two reads would mix today's and its prices
        List<PricedRow> rows = stores.read(() -> {
            PriceCatalog prices = prices(accountId, cycle);
            List<Row> all = rows(accountId, cycle);
            if (credentialId != null) {
                requireCredential(accountId, credentialId, all, rejections(accountId, cycle));
            }
            return all.stream().filter(r -> credentialId == null || r.credentialId().equals(credentialId))
                    .sorted(Comparator.comparing(Row::date).thenComparing(Row::credentialId).thenComparing(Row::service))
                    .map(r -> new PricedRow(r, prices.exactListCost(r.service(), r.totals().units())))
                    .toList();
        });
        Map<String, String> names = stores.read(() -> {
            Map<String, String> found = new TreeMap<>();
            rows.forEach(r -> found.computeIfAbsent(r.row().credentialId(), id -> {
                String name = name(accountId, id);
                return name == null ? "" : name;
            }));
            return found;
        });
        // about a row's length each, so the buffer is rarely copied while it grows
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(1 << 30, 256 + rows.size() * 120L));
        try (Writer out = new OutputStreamWriter(bytes, StandardCharsets.UTF_8)) {
            UsageCsv.write(out, rows.stream().map(p -> new UsageCsv.Line(p.row().date(), p.row().credentialId(),
                    names.get(p.row().credentialId()), p.row().service(), p.row().totals().requests(),
                    p.row().totals().units(), p.cost())).toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The statements issued for the cycle, in the order they were issued. */
    public StatementList statements(String accountId, BillingCycle cycle) {
        return stores.read(() -> {
            ReadOnlyKeyValueStore<String, Statement> store = stores.store(BillingTopology.STATEMENTS_STORE, accountId);
            List<StatementView> statements = new ArrayList<>();
            try (KeyValueIterator<String, Statement> all = store.prefixScan(StoreKeys.cyclePrefix(accountId, cycle), KEYS)) {
                all.forEachRemaining(kv -> statements.add(view(kv.value)));
            }
            return new StatementList(statements);
        });
    }

    /**
     * The account's keys used after they were invalidated or expired whose last such use fell in the cycle: the
     * latest alert of each key and run of uses, the most recent use first. {@code credentialId} (nullable)
     * narrows it.
     */
    public AlertList alerts(String accountId, BillingCycle cycle, String credentialId) {
        return stores.read(() -> {
            ReadOnlyKeyValueStore<String, SecurityAlert> store = stores.store(BillingTopology.ALERTS_STORE, accountId);
            List<SecurityAlert> found = new ArrayList<>();
            try (KeyValueIterator<String, SecurityAlert> all = store.prefixScan(StoreKeys.cyclePrefix(accountId, cycle), KEYS)) {
                all.forEachRemaining(kv -> found.add(kv.value));
            }
            List<SecurityAlert> chosen = found.stream()
                    .filter(a -> credentialId == null || a.credentialId().equals(credentialId)).toList();
            if (credentialId != null && chosen.isEmpty()) {
                requireCredential(accountId, credentialId, rows(accountId, cycle), rejections(accountId, cycle));
            }
            Map<String, String> names = new TreeMap<>();
            return new AlertList(chosen.stream()
                    .sorted(Comparator.comparing(SecurityAlert::lastSeen).reversed().thenComparing(SecurityAlert::keyId)
                            .thenComparing(SecurityAlert::reason).thenComparing(SecurityAlert::firstSeen))
                    .map(a -> new AlertView(a.credentialId(),
                            names.computeIfAbsent(a.credentialId(), id -> name(accountId, id)), a.keyId(), a.reason(),
                            a.count(), a.firstSeen(), a.lastSeen()))
                    .toList());
        });
    }

    private static StatementView view(Statement s) {
        return new StatementView(s.statementId(), s.cycle(), s.kind(), s.issuedAt(), s.currency(), s.lines(), s.amountDue());
    }

    /** The prices of a cycle's report: those it closed with (what its statements bill), today's while it is open. */
    private PriceCatalog prices(String accountId, BillingCycle cycle) {
        CycleState state = stores.<CycleState>store(BillingTopology.CYCLES_STORE, accountId)
                .get(StoreKeys.cycle(accountId, cycle));
        return state == null || state.prices() == null ? catalog : catalog.at(state.prices());
    }

    private CycleView cycleView(String accountId, BillingCycle cycle) {
        ReadOnlyKeyValueStore<String, CycleState> cycles = stores.store(BillingTopology.CYCLES_STORE, accountId);
        CycleState state = cycles.get(StoreKeys.cycle(accountId, cycle));
        boolean closed = state != null ? state.closed()
                : !clock.instant().isBefore(cycle.closesAt(properties.billing().closeGrace()));
        return new CycleView(cycle.id(), cycle.start(), cycle.end(), closed ? "closed" : "open");
    }

    private List<Row> rows(String accountId, BillingCycle cycle) {
        ReadOnlyKeyValueStore<String, Totals> usage = stores.store(BillingTopology.USAGE_STORE, accountId);
        List<Row> rows = new ArrayList<>();
        try (KeyValueIterator<String, Totals> days = usage.prefixScan(StoreKeys.cyclePrefix(accountId, cycle), KEYS)) {
            while (days.hasNext()) {
                KeyValue<String, Totals> day = days.next();
                StoreKeys.UsageKey key = StoreKeys.UsageKey.parse(day.key);
                rows.add(new Row(key.date(), key.credentialId(), key.service(), day.value));
            }
        }
        return rows;
    }

    private Map<String, Long> rejections(String accountId, BillingCycle cycle) {
        ReadOnlyKeyValueStore<String, Long> store = stores.store(BillingTopology.REJECTIONS_STORE, accountId);
        String prefix = StoreKeys.cyclePrefix(accountId, cycle);
        Map<String, Long> counts = new TreeMap<>();
        try (KeyValueIterator<String, Long> all = store.prefixScan(prefix, KEYS)) {
            all.forEachRemaining(kv -> counts.put(kv.key.substring(prefix.length()), kv.value));
        }
        return counts;
    }

    /** credentialId → reason → count; sorted by reason. */
    private Map<String, Map<String, Long>> rejectionReasons(String accountId, BillingCycle cycle) {
        ReadOnlyKeyValueStore<String, Long> store = stores.store(BillingTopology.REJECTION_REASONS_STORE, accountId);
        String prefix = StoreKeys.cyclePrefix(accountId, cycle);
        Map<String, Map<String, Long>> counts = new TreeMap<>();
        try (KeyValueIterator<String, Long> all = store.prefixScan(prefix, KEYS)) {
            all.forEachRemaining(kv -> {
                String rest = kv.key.substring(prefix.length());
                int slash = rest.lastIndexOf('/');
                counts.computeIfAbsent(rest.substring(0, slash), id -> new TreeMap<>()).put(rest.substring(slash + 1), kv.value);
            });
        }
        return counts;
    }

    private String name(String accountId, String credentialId) {
        ReadOnlyKeyValueStore<String, CredentialInfo> names = stores.store(BillingTopology.CREDENTIALS_STORE, accountId);
        CredentialInfo info = names.get(StoreKeys.credential(accountId, credentialId));
        return info == null ? null : info.name();
    }

    /** A credential of this account (created, or with usage or rejections in the cycle); otherwise 404. */
    private void requireCredential(String accountId, String credentialId, List<Row> rows, Map<String, Long> rejected) {
        boolean known = rows.stream().anyMatch(r -> r.credentialId().equals(credentialId))
                || rejected.containsKey(credentialId)
                || stores.<CredentialInfo>store(BillingTopology.CREDENTIALS_STORE, accountId)
                        .get(StoreKeys.credential(accountId, credentialId)) != null;
        if (!known) {
            throw ApiProblem.notFound(CredentialIds.describe(credentialId));
        }
    }
}
