package io.keymeter.billing.cycles;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.billing.catalog.CatalogProperties;
import io.keymeter.billing.catalog.CyclePrices;
import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatementCalculatorTest {

    private final StatementCalculator calculator = new StatementCalculator(PriceCatalog.defaults("USD"));
    private final BillingCycle november = BillingCycle.parse("2026-11").orElseThrow();
    private final Instant now = Instant.parse("2026-12-01T01:00:00Z");

    private Map<String, StatementLine> lines(Map<String, Totals> totals) {
        return calculator.linesByService(totals);
    }

    @Test
    void aFinalStatementHasOneLinePerServiceAndDeterministicId() {
        Statement statement = calculator.finalStatement("acme", november,
                Map.of("routing", new Totals(10, 25_000), "geocoding-stored", new Totals(2, 100)), now);
        assertThat(statement.statementId()).isEqualTo("acme-2026-11-final");
        assertThat(statement.lines()).extracting(StatementLine::service).containsExactly("geocoding-stored", "routing");
        assertThat(statement.amountDue()).isEqualTo(new BigDecimal("2.90")); // 0.40 + 5,000 x 0.50 / 1000
    }

    @Test
    void anAdjustmentCarriesOnlyTheDifferenceAcrossTheFreeAllowance() {
        Statement adjustment = calculator.adjustment("acme", november, 1,
                lines(Map.of("geocoding", new Totals(10, 19_000), "routing", new Totals(1, 5))),
                lines(Map.of("geocoding", new Totals(12, 23_000), "routing", new Totals(1, 5))), now).orElseThrow();
        assertThat(adjustment.statementId()).isEqualTo("acme-2026-11-adj-1");
        assertThat(adjustment.lines()).singleElement().satisfies(line -> {
            assertThat(line.service()).isEqualTo("geocoding");
            assertThat(line.requests()).isEqualTo(2);
            assertThat(line.units()).isEqualTo(4_000);
            assertThat(line.freeUnits()).isEqualTo(1_000);
            assertThat(line.billableUnits()).isEqualTo(3_000);
            assertThat(line.amount()).isEqualTo(new BigDecimal("1.50"));
        });
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("1.50"));
    }

    @Test
    void anAdjustmentAfterAPriceChangeIsPricedAtThePricesTheCycleClosedWith() {
        CyclePrices closedWith = calculator.prices(); // geocoding-stored at 4.00 per 1,000, no free units
        Map<String, StatementLine> billedAtFour = lines(Map.of("geocoding-stored", new Totals(1, 1000)));
        StatementCalculator today = new StatementCalculator(PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("geocoding-stored", null, new BigDecimal("5.00"), 0L))));
        Map<String, Totals> late = Map.of("geocoding-stored", new Totals(2, 2000));

        StatementCalculator closed = today.at(closedWith);
        Statement adjustment = closed.adjustment("acme", november, 1, billedAtFour, closed.linesByService(late), now)
                .orElseThrow();
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("4.00")); // the late 1,000 at 4.00, as the first
        assertThat(adjustment.lines()).singleElement().satisfies(line -> {
            assertThat(line.billableUnits()).isEqualTo(1000);
            assertThat(line.pricePer1000()).isEqualTo(new BigDecimal("4.00"));
        });
        // today's catalog would re-price the 1,000 billed at 4.00 too: 2,000 at 5.00 minus 4.00
        assertThat(today.adjustment("acme", november, 1, billedAtFour, today.linesByService(late), now).orElseThrow()
                .amountDue()).isEqualTo(new BigDecimal("6.00"));
    }

    @Test
    void aCycleClosedWithAFreeAllowanceKeepsItsAllowanceAndCurrency() {
        StatementCalculator closedWith = new StatementCalculator(PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("0.50"), 20_000L))));
        Map<String, StatementLine> billed = closedWith.linesByService(Map.of("routing", new Totals(1, 25_000)));
        StatementCalculator today = new StatementCalculator(PriceCatalog.of("EUR", List.of(
                new CatalogProperties.ServiceEntry("routing", null, new BigDecimal("0.50"), 0L))));

        StatementCalculator closed = today.at(closedWith.prices());
        Statement adjustment = closed.adjustment("acme", november, 1, billed,
                closed.linesByService(Map.of("routing", new Totals(2, 27_000))), now).orElseThrow();
        assertThat(adjustment.currency()).isEqualTo("USD");
        assertThat(adjustment.lines()).singleElement().satisfies(line -> {
            assertThat(line.freeUnits()).isZero(); // the 20,000 free units were used up by the final
            assertThat(line.billableUnits()).isEqualTo(2_000);
        });
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("1.00"));
    }

    @Test
    void aCycleClosedBeforeItsPricesWereKeptIsAdjustedAtTodaysCatalog() {
        assertThat(calculator.at(null)).isSameAs(calculator);
    }

    @Test
    void noChangeMeansNoAdjustment() {
        Map<String, StatementLine> same = lines(Map.of("geocoding", new Totals(1, 1)));
        assertThat(calculator.adjustment("acme", november, 1, same, same, now)).isEmpty();
    }

    @Test
    void usageThatWentDownIsCreditedAsANegativeDifference() {
        Statement adjustment = calculator.adjustment("acme", november, 2,
                lines(Map.of("geocoding-stored", new Totals(5, 1000))), lines(Map.of("geocoding-stored", new Totals(4, 750))), now)
                .orElseThrow();
        assertThat(adjustment.statementId()).isEqualTo("acme-2026-11-adj-2");
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("-1.00"));
    }
}
