package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which staleness verify accepts, in which words it refuses one, and how long a credential commit may wait. */
class VerifySettingsTest {

    @Test
    void theStalenessMayBeFromTwoEndChecksToTheLongestDurationTaken() {
        assertThat(new VerifySettings(Duration.ofSeconds(2), Duration.ZERO).maxStaleness())
                .isEqualTo(Duration.ofSeconds(2));
        assertThat(new VerifySettings(Duration.ofDays(36_500), Duration.ZERO).maxStaleness())
                .isEqualTo(Duration.ofDays(36_500));

        assertThatThrownBy(() -> new VerifySettings(Duration.ofMillis(1999), Duration.ZERO)).hasMessage(
                "keymeter.verify.max-staleness must be at least PT2S (the end offsets are checked every 1000 ms), "
                        + "not PT1.999S");
        assertThatThrownBy(() -> new VerifySettings(Duration.ofDays(36_500).plusNanos(1), Duration.ZERO))
                .hasMessageStartingWith("keymeter.verify.max-staleness must be at most 36500 days, not ");
    }

    @Test
    void aCommitIntervalIsKeptAndANegativeOneCountsAsNone() {
        assertThat(new VerifySettings(Duration.ofSeconds(10), Duration.ofMillis(300)).credentialsCommitInterval())
                .isEqualTo(Duration.ofMillis(300));
        assertThat(new VerifySettings(Duration.ofSeconds(10), Duration.ZERO).credentialsCommitInterval()).isZero();
        assertThat(new VerifySettings(Duration.ofSeconds(10), Duration.ofSeconds(-1)).credentialsCommitInterval())
                .isZero();
    }
}
