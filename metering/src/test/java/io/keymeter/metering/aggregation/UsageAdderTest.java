package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;

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
}
