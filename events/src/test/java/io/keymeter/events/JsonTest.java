package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.JacksonException;

class JsonTest {

    @Test
    void theStrictMapperReadsAnRfc3339Time() {
        assertThat(Json.strictMapper().readValue("\"2026-11-26T10:15:30Z\"", Instant.class))
                .isEqualTo(Instant.parse("2026-11-26T10:15:30Z"));
        assertThat(Json.strictMapper().readValue("\"2026-11-26T10:15:30+01:00\"", Instant.class))
                .isEqualTo(Instant.parse("2026-11-26T09:15:30Z"));
    }

    /** Epoch seconds as a number or as digits, and hour 24, which Jackson's own reader takes. */
    @ParameterizedTest
    @ValueSource(strings = {"1800000000", "\"1800000000\"", "\"2026-11-26T24:00:00Z\"", "\"2026-02-30T10:15:30Z\"",
            "true"})
    void theStrictMapperRefusesAnyOtherTime(String json) {
        assertThatThrownBy(() -> Json.strictMapper().readValue(json, Instant.class))
                .isInstanceOf(JacksonException.class);
    }

    @Test
    void bothMappersAreThere() {
        assertThat(Json.mapper()).isNotNull();
        assertThat(Json.strictMapper()).isNotNull().isNotSameAs(Json.mapper());
    }
}
