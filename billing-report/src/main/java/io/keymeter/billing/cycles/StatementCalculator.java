package io.keymeter.billing.cycles;

import io.keymeter.billing.catalog.CyclePrices;
import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Prices an account's cycle into statements. A final statement bills the cycle's totals per service; an adjustment
 * carries only the difference between the lines now and the lines already billed, so that the final plus its
 * adjustments always add up to what the cycle's whole usage costs.
 */
public final class StatementCalculator {

    public static final String FINAL = "final";
    public static final String ADJUSTMENT = "adjustment";

    private final PriceCatalog catalog;

    public StatementCalculator(PriceCatalog catalog) {
        this.catalog = catalog;
    }

    /** The prices a cycle closing now is billed at, kept with it (see {@link #at}). */
    public CyclePrices prices() {
        return catalog.prices();
    }

    /**
     * This calculator at the prices a cycle closed with, so that its adjustments price late usage as its final
     * statement did; at today's catalog when there are none (a cycle closed by a version that did not keep them).
     */
    public StatementCalculator at(CyclePrices closed) {
        return closed == null ? this : new StatementCalculator(catalog.at(closed));
    }

    public static String finalId(String accountId, BillingCycle cycle) {
        return accountId + "-" + cycle.id() + "-final";
    }

    public static String adjustmentId(String accountId, BillingCycle cycle, int n) {
        return accountId + "-" + cycle.id() + "-adj-" + n;
    }

    /** The per-service lines of an account's cycle, free units applied once per service. */
    public List<StatementLine> lines(Map<String, Totals> byService) {
        return new TreeSet<>(byService.keySet()).stream()
                .map(service -> catalog.line(service, byService.get(service).requests(), byService.get(service).units()))
                .toList();
    }

    public Statement finalStatement(String accountId, BillingCycle cycle, Map<String, Totals> byService, Instant issuedAt) {
        List<StatementLine> lines = lines(byService);
        return new Statement(finalId(accountId, cycle), accountId, cycle.id(), FINAL, issuedAt, catalog.currency(),
                lines, sum(lines));
    }

    /** The cycle's lines by service: what a final statement bills, and what adjustments are measured against. */
    public Map<String, StatementLine> linesByService(Map<String, Totals> byService) {
        Map<String, StatementLine> lines = new TreeMap<>();
        lines(byService).forEach(line -> lines.put(line.service(), line));
        return lines;
    }

    /**
     * The {@code n}-th adjustment: per service, the lines now minus the lines billed so far. The billed lines keep
     * the amounts actually billed; call it on the calculator {@link #at at} the cycle's closing prices, so that the
     * lines now are priced as they were (a later catalog change must not re-price usage already billed). Empty when
     * no service's requests or units changed.
     */
    public Optional<Statement> adjustment(String accountId, BillingCycle cycle, int n, Map<String, StatementLine> billed,
                                          Map<String, StatementLine> now, Instant issuedAt) {
        TreeSet<String> services = new TreeSet<>(billed.keySet());
        services.addAll(now.keySet());
        List<StatementLine> lines = new ArrayList<>();
        for (String service : services) {
            StatementLine old = billed.getOrDefault(service, catalog.line(service, 0, 0));
            StatementLine next = now.getOrDefault(service, catalog.line(service, 0, 0));
            if (old.requests().equals(next.requests()) && old.units().equals(next.units())) {
                continue;
            }
            lines.add(new StatementLine(service, next.requests().subtract(old.requests()),
                    next.units().subtract(old.units()), next.freeUnits().subtract(old.freeUnits()),
                    next.billableUnits().subtract(old.billableUnits()), next.pricePer1000(),
                    next.amount().subtract(old.amount())));
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Statement(adjustmentId(accountId, cycle, n), accountId, cycle.id(), ADJUSTMENT, issuedAt,
                catalog.currency(), lines, sum(lines)));
    }

    /** The lines' amounts added up, from zero at the currency's decimals. */
    public BigDecimal sum(List<StatementLine> lines) {
        return lines.stream().map(StatementLine::amount).reduce(catalog.zero(), BigDecimal::add);
    }
}
