package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.StartupRefusedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.mock.env.MockEnvironment;

class DurationSettingsTest {

    /** Spring reads a bare number as milliseconds: max-age=35 refused every request as older than 35 ms. */
    @ParameterizedTest
    @ValueSource(strings = {"35", " 35 ", "+2000", "1.5", "-1"})
    void aNumberWithoutAUnitIsRefusedNamingTheSetting(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.ingest.max-age", value);

        assertThatThrownBy(() -> new DurationSettings(environment)).isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("keymeter.ingest.max-age is " + value.strip() + ", a number without a unit");
    }

    /** Read with {@code @Value}, such a value failed with a trace naming a constructor parameter, not the setting. */
    @ParameterizedTest
    @ValueSource(strings = {"abc", "5 minutes", "P"})
    void somethingThatIsNoDurationIsRefusedNamingTheSetting(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.verify.max-staleness", value);

        assertThatThrownBy(() -> new DurationSettings(environment)).isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("keymeter.verify.max-staleness is " + value + ", not a duration");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  "})
    void anEmptyValueIsSaidToBeEmpty(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.billing.close-grace", value);

        assertThatThrownBy(() -> new DurationSettings(environment)).isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("keymeter.billing.close-grace is empty, not a duration.");
    }

    /** Zero is zero in any unit, and a unit or ISO 8601 says what is meant. */
    @ParameterizedTest
    @ValueSource(strings = {"0", "-0", "0.0", "35d", "P35D", "PT5M", "500ms", "-PT1S"})
    void zeroAndDurationsWithTheirUnitAreTaken(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.metering.join-grace", value)
                .withProperty("keymeter.credentials.commit-interval", value);

        assertThatCode(() -> new DurationSettings(environment)).doesNotThrowAnyException();
    }
}
