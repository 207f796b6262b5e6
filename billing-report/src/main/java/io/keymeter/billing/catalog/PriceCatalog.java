package io.keymeter.billing.catalog;

import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.StatementLine;
import io.keymeter.platform.config.CheckedAtStart;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Currency;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prices services and turns usage into money. Money is {@link BigDecimal}, rounded half-even to the currency's
 * minor unit (cents; none for JPY, three decimals for KWD) once per line (never per request, never through
 * {@code double}). The free allowance is applied by {@link #line}, which
 * callers invoke once per account, cycle and service: never per credential.
 */
public final class PriceCatalog implements CheckedAtStart {

    private final String currency;
    /** Decimals of an amount: the currency's minor unit. */
    private final int scale;
    private final Map<String, ServicePrice> prices;

    private PriceCatalog(String currency, int scale, Map<String, ServicePrice> prices) {
        this.currency = currency;
        this.scale = scale;
        Map<String, ServicePrice> shown = new LinkedHashMap<>();
        prices.forEach((service, p) -> shown.put(service, new ServicePrice(p.service(), p.privilege(), p.unit(),
                asMoney(p.pricePer1000(), scale), p.freeUnits())));
        this.prices = Map.copyOf(shown);
    }

    /**
     * A price as money in the currency: at least its decimals, more where the price has them ({@code 0.005}). A price
     * was shown as configured: {@code "3"} beside {@code "10.00"} in yen, {@code "0.4"} beside {@code "0.500"} in dinars.
     */
    private static BigDecimal asMoney(BigDecimal price, int scale) {
        return price.setScale(Math.max(scale, price.stripTrailingZeros().scale()), RoundingMode.UNNECESSARY);
    }

    /**
     * The decimals of an amount in the currency (ISO 4217's minor unit: USD 2, JPY 0, KWD 3; 2 for a code without
     * one, such as XAU). Every amount was rounded to cents before, so a JPY bill came to "1.20" yen. A code that is
     * not a currency fails start-up.
     */
    public static int minorUnits(String currency) {
        try {
            int digits = Currency.getInstance(currency).getDefaultFractionDigits();
            return digits < 0 ? 2 : digits;
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("keymeter.billing.currency: '" + currency
                    + "' is not an ISO 4217 currency code", e);
        }
    }

    /** Zero in this currency, at its decimals: what sums of amounts start from. */
    public BigDecimal zero() {
        return BigDecimal.ZERO.setScale(scale);
    }

    /** The shipped catalog in the given currency. */
    public static PriceCatalog defaults(String currency) {
        return of(currency, List.of());
    }

    /**
     * The shipped catalog with the configured entries replacing their service's default. A configured service that
     * {@code ServiceCatalog} does not know fails start-up with the property named.
     */
    public static PriceCatalog of(String currency, List<CatalogProperties.ServiceEntry> configured) {
        Map<String, ServicePrice> prices = new LinkedHashMap<>();
        DefaultCatalog.ENTRIES.forEach(e -> prices.put(e.service(), price(e, null)));
        Map<String, Integer> given = new HashMap<>();
        for (int i = 0; i < configured.size(); i++) {
            CatalogProperties.ServiceEntry entry = configured.get(i);
            if (ServiceCatalog.byService(entry.service()).isEmpty()) {
                throw new IllegalArgumentException("keymeter.catalog.services[" + i + "].service: unknown service '"
                        + entry.service() + "'");
            }
            // the later entry won, with the fields it left out taken from the earlier one: a price nobody wrote
            Integer earlier = given.putIfAbsent(entry.service(), i);
            if (earlier != null) {
                throw new IllegalArgumentException("keymeter.catalog.services[" + i + "].service: '" + entry.service()
                        + "' is priced already by keymeter.catalog.services[" + earlier + "]; one entry per service");
            }
            prices.put(entry.service(), price(entry, prices.get(entry.service())));
        }
        return new PriceCatalog(currency, minorUnits(currency), prices);
    }

    public String currency() {
        return currency;
    }

    /** The price of a service; a service without a price (none today) is carried at zero, never dropped. */
    public ServicePrice price(String service) {
        ServicePrice price = prices.get(service);
        return price != null ? price : new ServicePrice(service, null, "unit", BigDecimal.ZERO.setScale(2), 0);
    }

    public List<ServicePrice> all() {
        return List.copyOf(prices.values());
    }

    /** What a cycle closing now is billed at: this catalog's currency and every service's price and free units. */
    public CyclePrices prices() {
        Map<String, CyclePrices.Terms> terms = new TreeMap<>();
        prices.forEach((service, p) -> terms.put(service, new CyclePrices.Terms(p.pricePer1000(), p.freeUnits())));
        return new CyclePrices(currency, terms);
    }

    /**
     * This catalog at the prices a cycle closed with: their currency, and their price and free units for every
     * service they name (a service they do not name keeps this catalog's).
     */
    public PriceCatalog at(CyclePrices closed) {
        Map<String, ServicePrice> fixed = new LinkedHashMap<>(prices);
        closed.services().forEach((service, terms) -> {
            ServicePrice now = price(service);
            fixed.put(service, new ServicePrice(service, now.privilege(), now.unit(), terms.pricePer1000(),
                    terms.freeUnits()));
        });
        // a code stored before start-up refused what is no currency: priced at cents, not a report failing for good
        int closedScale;
        try {
            closedScale = minorUnits(closed.currency());
        } catch (IllegalArgumentException e) {
            closedScale = 2;
        }
        return new PriceCatalog(closed.currency(), closedScale, fixed);
    }

    /** List price of some units: units / 1000 × price, half-even to the currency's minor unit. */
    public BigDecimal listCost(String service, long units) {
        return listCost(service, BigInteger.valueOf(units));
    }

    public BigDecimal listCost(String service, BigInteger units) {
        return cost(units, price(service).pricePer1000());
    }

    /**
     * List price of some units exactly, not rounded: units / 1000 × price, with at least the currency's decimals
     * ({@code 0.005}, {@code 1.00}). A usage CSV's rows sum to the report's cost before its rounding; rows rounded each to cents
     * (10 units a day at 0.50 per 1,000: 0.00 every day) summed to as little as nothing.
     */
    public BigDecimal exactListCost(String service, long units) {
        return exactListCost(service, BigInteger.valueOf(units));
    }

    public BigDecimal exactListCost(String service, BigInteger units) {
        BigDecimal exact = exact(units, price(service).pricePer1000()).stripTrailingZeros();
        return exact.setScale(Math.max(scale, exact.scale()), RoundingMode.UNNECESSARY);
    }

    /**
     * One service's line for one account and cycle: the free allowance applied once, the rest billed at list price.
     */
    public StatementLine line(String service, long requests, long units) {
        return line(service, BigInteger.valueOf(requests), BigInteger.valueOf(units));
    }

    public StatementLine line(String service, BigInteger requests, BigInteger units) {
        ServicePrice price = price(service);
        BigInteger free = units.max(BigInteger.ZERO).min(BigInteger.valueOf(price.freeUnits()));
        BigInteger billable = units.subtract(free);
        return new StatementLine(service, requests, units, free, billable, price.pricePer1000(),
                cost(billable, price.pricePer1000()));
    }

    BigDecimal cost(long units, BigDecimal pricePer1000) {
        return cost(BigInteger.valueOf(units), pricePer1000);
    }

    BigDecimal cost(BigInteger units, BigDecimal pricePer1000) {
        return exact(units, pricePer1000).setScale(scale, RoundingMode.HALF_EVEN);
    }

    /** units / 1000 × price, not rounded. */
    private static BigDecimal exact(BigInteger units, BigDecimal pricePer1000) {
        return pricePer1000.multiply(new BigDecimal(units)).movePointLeft(3);
    }

    private static ServicePrice price(CatalogProperties.ServiceEntry entry, ServicePrice fallback) {
        String privilege = ServiceCatalog.privilegeFor(entry.service()).orElse(null);
        String unit = entry.unit() != null ? entry.unit() : fallback != null ? fallback.unit() : "unit";
        long free = entry.freeUnits() != null ? entry.freeUnits() : fallback != null ? fallback.freeUnits() : 0;
        return new ServicePrice(entry.service(), privilege, unit, entry.pricePer1000(), free);
    }
}
