package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
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

    /**
     * A number or a boolean where a request has text: ingest and verify refuse it ("must be a string"), and the topic's
     * read took {@code "requestId":1234} as "1234" and billed it.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "{\"requestId\":1234,\"keyId\":\"k1\",\"units\":1}",
            "{\"requestId\":\"r1\",\"keyId\":\"k1\",\"units\":1,\"itemId\":42}",
            "{\"requestId\":\"r1\",\"keyId\":\"k1\",\"units\":1,\"referrer\":true}",
            "{\"requestId\":\"r1\",\"keyId\":\"k1\",\"units\":1,\"operation\":1.5}",
            "{\"requestId\":\"r1\",\"keyId\":false,\"units\":1}"})
    void theRequestLogsReadTakesTextOnlyAsAString(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Topics.REQUESTS.valueSerde().deserializer().deserialize(Topics.REQUESTS.name(), bytes))
                .isInstanceOf(SerializationException.class);
    }

    @Test
    void theRequestLogsReadTakesAString() {
        byte[] json = "{\"requestId\":\"1234\",\"keyId\":\"k1\",\"units\":1,\"itemId\":\"42\"}"
                .getBytes(StandardCharsets.UTF_8);

        RequestLog request = Topics.REQUESTS.valueSerde().deserializer().deserialize(Topics.REQUESTS.name(), json);

        assertThat(request.requestId()).isEqualTo("1234");
        assertThat(request.itemId()).isEqualTo("42");
    }

    @Test
    void bothMappersAreThere() {
        assertThat(Json.mapper()).isNotNull();
        assertThat(Json.strictMapper()).isNotNull().isNotSameAs(Json.mapper());
    }
}
