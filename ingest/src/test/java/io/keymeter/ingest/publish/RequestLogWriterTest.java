package io.keymeter.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestLogWriterTest {

    private static String serde(RequestLog r) {
        return new String(Topics.REQUESTS.valueSerde().serializer().serialize("t", r), StandardCharsets.UTF_8);
    }

    private static String fast(RequestLog r) {
        return new String(RequestLogWriter.write(r), StandardCharsets.UTF_8);
    }

    @Test
    void writesExactlyWhatTheTopicSerdeWrites() {
        RequestLog full = new RequestLog("r-1", "AbCdEfGh12345678", "ab".repeat(32), "routing", "route", 3, "item-1",
                "https://app.example.com/a?b=\"c\"\u00e9\n", Instant.parse("2026-11-26T10:15:30.120Z"));
        RequestLog sparse = new RequestLog("r-2", "AbCdEfGh12345678", "cd".repeat(32), "basemaps", null, 1, null, null,
                Instant.parse("2026-11-26T10:15:30Z"));
        RequestLog nanos = new RequestLog("r-3", "k", "h", "places", "", Long.MAX_VALUE, "", "",
                Instant.parse("2026-11-26T10:15:30.123456789Z"));

        for (RequestLog r : new RequestLog[] {full, sparse, nanos}) {
            assertThat(fast(r)).isEqualTo(serde(r));
            assertThat(Topics.REQUESTS.valueSerde().deserializer().deserialize("t", RequestLogWriter.write(r))).isEqualTo(r);
        }
    }
}
