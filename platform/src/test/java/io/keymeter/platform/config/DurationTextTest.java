package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {

    @Test
    void wholeDaysReadAsTheyAreConfigured() {
        assertThat(DurationText.of(Duration.ofDays(35))).isEqualTo("P35D");
        assertThat(DurationText.of(Duration.ofDays(366))).isEqualTo("P366D");
    }

    @Test
    void anythingElseKeepsJavasForm() {
        assertThat(DurationText.of(Duration.ofHours(36))).isEqualTo("PT36H");
        assertThat(DurationText.of(Duration.ofDays(2).plusMillis(1))).isEqualTo("PT48H0.001S");
        assertThat(DurationText.of(Duration.ofMinutes(5))).isEqualTo("PT5M");
        assertThat(DurationText.of(Duration.ZERO)).isEqualTo("PT0S");
        assertThat(DurationText.of(Duration.ofHours(-36))).isEqualTo("-PT36H");
    }

    /** As written: -PT1S, not Java's PT-1S. */
    @Test
    void aNegativeDurationReadsAsItIsConfigured() {
        assertThat(DurationText.of(Duration.ofSeconds(-1))).isEqualTo("-PT1S");
        assertThat(DurationText.of(Duration.ofDays(-1))).isEqualTo("-P1D");
    }
}
