package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The day a count's key names; the sweep itself runs in {@code MeteringTopologyTest} on the production topology. */
class RejectionCounterTest {

    @Test
    void theDayIsReadFromTheEndOfTheKey() {
        assertThat(RejectionCounter.dayOf("0b9e6a1c-4f1e-4c7a-9a53-2d4f3a1b7c11/2026-11-01/referrer-not-permitted"))
                .isEqualTo(LocalDate.of(2026, 11, 1));
        assertThat(RejectionCounter.dayOf("-/2026-12-31/unknown-key")).isEqualTo(LocalDate.of(2026, 12, 31));
        assertThat(RejectionCounter.dayOf("a/b/2026-01-02/expired")).as("a credential id with a slash")
                .isEqualTo(LocalDate.of(2026, 1, 2));
    }

    @Test
    void aKeyOfAnotherShapeNamesNoDayAndIsNeverSwept() {
        assertThat(RejectionCounter.dayOf("no-slashes")).isNull();
        assertThat(RejectionCounter.dayOf("/expired")).isNull();
        assertThat(RejectionCounter.dayOf("cred/not-a-day/expired")).isNull();
        assertThat(RejectionCounter.dayOf("cred/2026-13-40/expired")).isNull();
    }
}
