package io.keymeter.billing.catalog;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.math.BigDecimal;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * The price catalog as configured under {@code keymeter.catalog.services[N]}. Each entry replaces the built-in
 * default of its service ({@link DefaultCatalog}); services not listed keep their default. The currency is
 * {@code keymeter.billing.currency}, one currency for the whole catalog; {@code keymeter.catalog.currency} may repeat
 * it but never differ from it.
 */
@Validated
@ConfigurationProperties("keymeter.catalog")
public record CatalogProperties(String currency, List<@Valid ServiceEntry> services) {

    public CatalogProperties {
        services = services == null ? List.of() : List.copyOf(services);
    }

    /** The catalog in the billing currency; a different {@code keymeter.catalog.currency} stops start-up. */
    public PriceCatalog toCatalog(String billingCurrency) {
        if (currency != null && !currency.equals(billingCurrency)) {
            throw new IllegalArgumentException("keymeter.catalog.currency is " + currency + " but keymeter.billing.currency is "
                    + billingCurrency + ": Keymeter bills in one currency, set keymeter.billing.currency");
        }
        return PriceCatalog.of(billingCurrency, services);
    }

    /**
     * @param service      a service of {@code io.keymeter.events.ServiceCatalog}
     * @param unit         what one unit is (tile, geocode, route, …), for people reading a statement
     * @param pricePer1000 list price of 1,000 units in the catalog currency
     * @param freeUnits    units free every month, once per account and service
     */
    public record ServiceEntry(@NotBlank String service, String unit,
                               @NotNull @DecimalMin(value = "0", message = "must not be negative") BigDecimal pricePer1000,
                               @Min(0) Long freeUnits) {
    }
}
