package io.keymeter.billing.catalog;

import java.math.BigDecimal;
import java.util.Map;

/**
 * The prices a cycle was billed at when it closed: the currency and, per service, the price per 1,000 units and the
 * free units. Kept with the cycle, so that usage arriving after the close is priced as the final statement was,
 * whatever the catalog says by then.
 */
public record CyclePrices(String currency, Map<String, Terms> services) {

    public CyclePrices {
        services = services == null ? Map.of() : Map.copyOf(services);
    }

    /** One service's terms. */
    public record Terms(BigDecimal pricePer1000, long freeUnits) {
    }
}
