package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.UsageDaily;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class UsageAdderTest {

    @Test
    void addsRequestsAndUnits() {
        LocalDate day = LocalDate.of(2026, 11, 26);
        UsageDaily total = new UsageDaily("acme", "c1", "basemaps", day, 10, 250);
        UsageDaily delta = new UsageDaily("acme", "c1", "basemaps", day, 3, 7);
        assertThat(new UsageAdder().apply(total, delta)).isEqualTo(new UsageDaily("acme", "c1", "basemaps", day, 13, 257));
    }

    /** Wrapped, the day read negative units and billed a negative cost. */
    @Test
    void refusesATotalBeyondALong() {
        LocalDate day = LocalDate.of(2026, 11, 26);
        UsageDaily total = new UsageDaily("acme", "c1", "basemaps", day, 10, Long.MAX_VALUE - 5);
        UsageDaily delta = new UsageDaily("acme", "c1", "basemaps", day, 1, 7);
        assertThatThrownBy(() -> new UsageAdder().apply(total, delta)).isInstanceOf(ArithmeticException.class)
                .hasMessage("usage of credential c1 for basemaps on 2026-11-26 would pass 9223372036854775807 "
                        + "requests or units; 1 request(s) of 7 units not added");
        assertThat(new UsageAdder().apply(total, new UsageDaily("acme", "c1", "basemaps", day, 1, 5)).units())
                .isEqualTo(Long.MAX_VALUE);
    }
}
