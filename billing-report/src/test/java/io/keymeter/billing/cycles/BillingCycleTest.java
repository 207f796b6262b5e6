package io.keymeter.billing.cycles;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class BillingCycleTest {

    @Test
    void theLastMillisecondOfAMonthBelongsToItAndMidnightToTheNext() {
        assertThat(BillingCycle.of(Instant.parse("2026-10-31T23:59:59.999Z")).id()).isEqualTo("2026-10");
        assertThat(BillingCycle.of(Instant.parse("2026-11-01T00:00:00Z")).id()).isEqualTo("2026-11");
        assertThat(BillingCycle.of(Instant.parse("2026-12-31T23:59:59.999Z")).id()).isEqualTo("2026-12");
        assertThat(BillingCycle.of(Instant.parse("2027-01-01T00:00:00Z")).id()).isEqualTo("2027-01");
    }

    @Test
    void aCycleRunsFromItsFirstInstantToTheNextMonthsAndClosesAfterTheGrace() {
        BillingCycle november = BillingCycle.parse("2026-11").orElseThrow();
        assertThat(november.start()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(november.end()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        assertThat(november.closesAt(Duration.ofHours(1))).isEqualTo(Instant.parse("2026-12-01T01:00:00Z"));
    }

    @Test
    void februaryOfALeapYearHas29Days() {
        BillingCycle february = BillingCycle.parse("2028-02").orElseThrow();
        assertThat(february.daysUpTo(LocalDate.parse("2028-03-15"))).hasSize(29)
                .endsWith(LocalDate.parse("2028-02-29"));
        assertThat(february.contains(LocalDate.parse("2028-02-29"))).isTrue();
        assertThat(BillingCycle.parse("2027-02").orElseThrow().daysUpTo(LocalDate.parse("2027-03-01"))).hasSize(28);
    }

    @Test
    void theDaysOfTheCurrentCycleStopAtTodayAndAFutureCycleHasNone() {
        BillingCycle november = BillingCycle.parse("2026-11").orElseThrow();
        assertThat(november.daysUpTo(LocalDate.parse("2026-11-26"))).hasSize(26);
        assertThat(november.daysUpTo(LocalDate.parse("2026-10-31"))).isEmpty();
    }

    @Test
    void onlyYearDashMonthParses() {
        assertThat(BillingCycle.parse("2026-13")).isEmpty();
        assertThat(BillingCycle.parse("2026-00")).isEmpty();
        assertThat(BillingCycle.parse("2026-1")).isEmpty();
        assertThat(BillingCycle.parse("2026-11-01")).isEmpty();
        assertThat(BillingCycle.parse(null)).isEmpty();
        assertThat(BillingCycle.parse("2026-12")).isPresent();
        // an end in year 10000 is no RFC 3339 time; before the epoch nothing was billed
        assertThat(BillingCycle.parse("9999-12")).isEmpty();
        assertThat(BillingCycle.parse("0000-01")).isEmpty();
        assertThat(BillingCycle.parse("1969-12")).isEmpty();
        assertThat(BillingCycle.parse("1970-01")).isPresent();
        assertThat(BillingCycle.parse("9998-12").orElseThrow().end()).isEqualTo(Instant.parse("9999-01-01T00:00:00Z"));
    }

    @Test
    void theCurrentCycleComesFromTheClock() {
        Clock clock = Clock.fixed(Instant.parse("2026-11-30T23:59:59.999Z"), ZoneOffset.UTC);
        assertThat(BillingCycle.current(clock).id()).isEqualTo("2026-11");
    }

    @Test
    void aCycleContainsTheDaysOfItsMonthOnly() {
        BillingCycle november = BillingCycle.parse("2026-11").orElseThrow();

        assertThat(november.contains(LocalDate.parse("2026-11-01"))).isTrue();
        assertThat(november.contains(LocalDate.parse("2026-11-30"))).isTrue();
        assertThat(november.contains(LocalDate.parse("2026-12-01"))).isFalse();
        assertThat(november.contains(LocalDate.parse("2025-11-15"))).isFalse();
    }

    @Test
    void cyclesOrderByTheirMonth() {
        BillingCycle november = BillingCycle.parse("2026-11").orElseThrow();
        BillingCycle december = BillingCycle.parse("2026-12").orElseThrow();

        assertThat(november.compareTo(december)).isNegative();
        assertThat(december.compareTo(november)).isPositive();
        assertThat(november.compareTo(BillingCycle.parse("2026-11").orElseThrow())).isZero();
        assertThat(november).hasToString("2026-11");
    }

    @Test
    void totalsAddUpAndAreZeroOnlyWhenBothAre() {
        assertThat(new Totals(1, 2).plus(new Totals(3, 4))).isEqualTo(new Totals(4, 6));
        assertThat(Totals.ZERO.isZero()).isTrue();
        assertThat(new Totals(1, 0).isZero()).isFalse();
        assertThat(new Totals(0, 1).isZero()).isFalse();
    }
}
