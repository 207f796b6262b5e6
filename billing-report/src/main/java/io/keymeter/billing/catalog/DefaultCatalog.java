package io.keymeter.billing.catalog;

import java.math.BigDecimal;
import java.util.List;

/**
 * The catalog Keymeter ships with: one entry per service of {@code ServiceCatalog}, list prices in the style of
 * public location-service price lists. Content operations are free.
 */
final class DefaultCatalog {

    static final List<CatalogProperties.ServiceEntry> ENTRIES = List.of(
            entry("basemaps", "tile", "0.15", 2_000_000),
            entry("geocoding", "geocode", "0.50", 20_000),
            entry("geocoding-stored", "geocode", "4.00", 0),
            entry("routing", "route", "0.50", 20_000),
            entry("places", "request", "0.50", 10_000),
            entry("elevation", "request", "0.30", 10_000),
            entry("demographics", "data-variable", "10.00", 0),
            entry("spatial-analysis", "record", "1.00", 0),
            entry("content", "operation", "0.00", 0));

    private DefaultCatalog() {
    }

    private static CatalogProperties.ServiceEntry entry(String service, String unit, String price, long free) {
        return new CatalogProperties.ServiceEntry(service, unit, new BigDecimal(price), free);
    }
}
