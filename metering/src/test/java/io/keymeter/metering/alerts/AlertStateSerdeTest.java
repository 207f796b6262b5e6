package io.keymeter.metering.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The store's use of an unreadable state is in {@code MeteringTopologyTest} (a use alerts, the sweep goes on). */
class AlertStateSerdeTest {

    private final AlertStateSerde serde = new AlertStateSerde();

    @Test
    void aStateIsWrittenAndReadBackAsJson() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        AlertState state = new AlertState("acme", "cred-1", "invalidated", 3, at, at.plusSeconds(60), at, at, 3L, at);
        byte[] bytes = serde.serializer().serialize("t", state);
        assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith("{").contains("\"count\":3");
        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(state);
    }

    @Test
    void aStateThisVersionCannotReadReadsAsNone() {
        assertThat(serde.deserializer().deserialize("t", "{\"count\":{".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(serde.deserializer().deserialize("t", "{\"count\":\"many\"}".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(serde.deserializer().deserialize("t", new byte[] {(byte) 0xff, 0x00})).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }
}
