package io.keymeter.billing.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.StatementLine;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class PriceCatalogTest {

    private final PriceCatalog catalog = PriceCatalog.defaults("USD");

    @Test
    void theDefaultCatalogPricesEveryServiceAndContentIsFree() {
        assertThat(catalog.all()).extracting(ServicePrice::service)
                .containsExactlyInAnyOrderElementsOf(ServiceCatalog.ALL.stream().map(ServiceCatalog.Service::service).toList());
        assertThat(catalog.all()).allSatisfy(p -> assertThat(p.privilege()).isNotNull());
        assertThat(catalog.price("content").pricePer1000()).isEqualByComparingTo("0");
        assertThat(catalog.listCost("content", 1_000_000)).isEqualTo(new BigDecimal("0.00"));
    }

    @Test
    void anExactListCostKeepsWhatRoundingToCentsWouldLose() {
        PriceCatalog catalog = PriceCatalog.defaults("USD");
        BigDecimal price = catalog.price("geocoding").pricePer1000();
        assertThat(catalog.exactListCost("geocoding", 10)).isEqualTo(price.multiply(BigDecimal.TEN).movePointLeft(3).stripTrailingZeros());
        assertThat(catalog.exactListCost("geocoding", 10).scale()).isGreaterThanOrEqualTo(2);
        assertThat(catalog.exactListCost("geocoding", 0)).isEqualTo(new BigDecimal("0.00"));
        assertThat(catalog.exactListCost("geocoding", 2_000_000)).isEqualTo(price.multiply(BigDecimal.valueOf(2000)).setScale(2));
        BigDecimal thirtyDays = catalog.exactListCost("geocoding", 10).multiply(BigDecimal.valueOf(30));
        assertThat(thirtyDays).isEqualByComparingTo(catalog.exactListCost("geocoding", 300));
    }

    @Test
    void costsAreRoundedHalfEvenToCents() {
        BigDecimal price = new BigDecimal("0.15");
        assertThat(catalog.cost(100, price)).isEqualTo(new BigDecimal("0.02"));  // 0.015 -> up to the even 2
        assertThat(catalog.cost(300, price)).isEqualTo(new BigDecimal("0.04"));  // 0.045 -> down to the even 4
        assertThat(catalog.cost(50, new BigDecimal("0.50"))).isEqualTo(new BigDecimal("0.02")); // 0.025
        assertThat(catalog.cost(70, new BigDecimal("0.50"))).isEqualTo(new BigDecimal("0.04")); // 0.035
        assertThat(catalog.cost(0, price)).isEqualTo(new BigDecimal("0.00"));
    }

    /** Every amount was rounded to cents, whatever the currency: a JPY bill of 1,001 units at 0.50 came to "0.50". */
    @Test
    void amountsHaveTheirCurrencysDecimals() {
        PriceCatalog yen = PriceCatalog.of("JPY", List.of(
                new CatalogProperties.ServiceEntry("geocoding", null, new BigDecimal("0.50"), 0L)));
        assertThat(yen.line("geocoding", 1, 1001).amount()).isEqualTo(new BigDecimal("1")); // 0.5005 yen -> 1
        assertThat(yen.line("geocoding", 1, 3000).amount()).isEqualTo(new BigDecimal("2")); // 1.5 -> the even 2
        assertThat(yen.zero()).isEqualTo(new BigDecimal("0"));
        assertThat(yen.exactListCost("geocoding", 10)).isEqualTo(new BigDecimal("0.005"));

        PriceCatalog dinar = PriceCatalog.of("KWD", List.of(
                new CatalogProperties.ServiceEntry("geocoding", null, new BigDecimal("0.125"), 0L)));
        assertThat(dinar.line("geocoding", 1, 1003).amount()).isEqualTo(new BigDecimal("0.125")); // 0.125375
        assertThat(dinar.zero()).isEqualTo(new BigDecimal("0.000"));

        // prices in the currency's decimals too, or more where they have them: "3" beside "10.00" in yen before
        PriceCatalog yenAt3 = PriceCatalog.of("JPY", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("3"), 0L)));
        assertThat(yenAt3.price("routing").pricePer1000()).hasToString("3");
        assertThat(yenAt3.price("basemaps").pricePer1000()).hasToString("0.15");
        assertThat(yenAt3.price("routing").pricePer1000()).isEqualTo(yenAt3.line("routing", 1, 1).pricePer1000());
        PriceCatalog dinarAt04 = PriceCatalog.of("KWD", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("0.4"), 0L)));
        assertThat(dinarAt04.price("routing").pricePer1000()).hasToString("0.400");
        assertThat(dinarAt04.price("basemaps").pricePer1000()).hasToString("0.150");
        assertThat(PriceCatalog.of("USD", List.of(new CatalogProperties.ServiceEntry("routing", null,
                new BigDecimal("0.0005"), 0L))).price("routing").pricePer1000()).hasToString("0.0005");

        assertThat(PriceCatalog.minorUnits("XAU")).isEqualTo(2); // gold has no minor unit
        assertThatThrownBy(() -> PriceCatalog.defaults("ZZZ")).hasMessageContaining("keymeter.billing.currency")
                .hasMessageContaining("ZZZ");
        // a cycle closed under such a code before start-up refused it is still priced (at cents), not a failure
        PriceCatalog closed = catalog.at(new CyclePrices("ZZZ", Map.of()));
        assertThat(closed.currency()).isEqualTo("ZZZ");
        assertThat(closed.zero()).isEqualTo(new BigDecimal("0.00"));
    }

    @Test
    void aLineAppliesTheFreeUnitsAndBillsTheRest() {
        StatementLine under = catalog.line("geocoding", 3, 19_999);
        assertThat(under.freeUnits()).isEqualTo(19_999);
        assertThat(under.billableUnits()).isZero();
        assertThat(under.amount()).isEqualTo(new BigDecimal("0.00"));

        StatementLine over = catalog.line("geocoding", 4, 24_000);
        assertThat(over.freeUnits()).isEqualTo(20_000);
        assertThat(over.billableUnits()).isEqualTo(4_000);
        assertThat(over.pricePer1000()).isEqualTo(new BigDecimal("0.50"));
        assertThat(over.amount()).isEqualTo(new BigDecimal("2.00"));
    }

    @Test
    void configuredEntriesReplaceTheirServiceAndKeepTheOthers() {
        PriceCatalog custom = PriceCatalog.of("EUR", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("1.25"), 5L)));
        assertThat(custom.currency()).isEqualTo("EUR");
        assertThat(custom.price("routing").pricePer1000()).isEqualTo(new BigDecimal("1.25"));
        assertThat(custom.price("routing").freeUnits()).isEqualTo(5);
        assertThat(custom.price("routing").unit()).isEqualTo("route");
        assertThat(custom.price("geocoding").pricePer1000()).isEqualTo(new BigDecimal("0.50"));
    }

    @Test
    void aCatalogAtAClosedCyclesPricesTakesTheirTermsAndCurrencyAndKeepsTheRest() {
        CyclePrices closed = PriceCatalog.of("EUR", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("1.25"), 5L))).prices();
        assertThat(closed.services().get("routing")).isEqualTo(new CyclePrices.Terms(new BigDecimal("1.25"), 5));
        assertThat(closed.services().keySet()).containsAll(catalog.all().stream().map(ServicePrice::service).toList());

        PriceCatalog now = PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("routing", "trip", new BigDecimal("9.00"), 0L)));
        PriceCatalog atClose = now.at(closed);
        assertThat(atClose.currency()).isEqualTo("EUR");
        assertThat(atClose.price("routing").pricePer1000()).isEqualTo(new BigDecimal("1.25"));
        assertThat(atClose.price("routing").freeUnits()).isEqualTo(5);
        assertThat(atClose.price("routing").unit()).isEqualTo("trip"); // a name, not a price: today's
        assertThat(now.at(new CyclePrices("USD", Map.of())).price("routing").pricePer1000())
                .isEqualTo(new BigDecimal("9.00")); // a service the cycle did not price: today's
    }

    @Test
    void anUnknownConfiguredServiceNamesTheProperty() {
        assertThatThrownBy(() -> PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("teleport", "jump", BigDecimal.ONE, 0L))))
                .hasMessageContaining("keymeter.catalog.services[0].service").hasMessageContaining("teleport");
    }

    /** The later entry won, with what it left out (here the free units) taken from the earlier one. */
    @Test
    void aServicePricedTwiceNamesBothEntries() {
        assertThatThrownBy(() -> PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("routing", null, BigDecimal.ONE, 100L),
                new CatalogProperties.ServiceEntry("places", null, BigDecimal.ONE, 0L),
                new CatalogProperties.ServiceEntry("routing", null, BigDecimal.TEN, null))))
                .hasMessage("keymeter.catalog.services[2].service: 'routing' is priced already by "
                        + "keymeter.catalog.services[0]; one entry per service");
    }

    @Test
    void theCatalogBindsFromKebabCaseProperties() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "keymeter.catalog.services[0].service", "places",
                "keymeter.catalog.services[0].unit", "search",
                "keymeter.catalog.services[0].price-per-1000", "0.75",
                "keymeter.catalog.services[0].free-units", "100")));
        CatalogProperties bound = binder.bind("keymeter.catalog", CatalogProperties.class).get();
        assertThat(bound.services()).containsExactly(
                new CatalogProperties.ServiceEntry("places", "search", new BigDecimal("0.75"), 100L));
        assertThat(bound.toCatalog("USD").price("places").pricePer1000()).isEqualTo(new BigDecimal("0.75"));
    }

    @Test
    void aCatalogCurrencyMayRepeatTheBillingCurrencyButNeverDiffer() {
        assertThat(new CatalogProperties("EUR", List.of()).toCatalog("EUR").currency()).isEqualTo("EUR");
        assertThatThrownBy(() -> new CatalogProperties("EUR", List.of()).toCatalog("USD"))
                .hasMessageContaining("keymeter.catalog.currency").hasMessageContaining("keymeter.billing.currency");
    }

    /** An entry that leaves out its free units keeps its service's default free units, as it keeps its unit. */
    @Test
    void anEntryWithoutFreeUnitsKeepsTheDefaultOnes() {
        PriceCatalog catalog = PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("1.25"), null)));

        assertThat(catalog.price("routing").freeUnits()).isEqualTo(20_000);
        assertThat(catalog.price("routing").pricePer1000()).isEqualByComparingTo("1.25");
    }
}
