package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.UsageDaily;
import java.time.LocalDate;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class UsageBinarySerdeTest {

    private final Serde<UsageDaily> serde = UsageBinarySerde.serde();

    @Test
    void roundTripsEveryFieldIncludingNonAsciiIdsAndLargeCounts() {
        UsageDaily usage = new UsageDaily("acme/é", "cred-1", "geocoding", LocalDate.of(2026, 12, 31), 12_345_678_901L, 7);
        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", usage))).isEqualTo(usage);
        assertThat(serde.serializer().serialize("t", usage)).hasSizeLessThan(64);
    }

    @Test
    void nullStaysNullAndAnUnknownFormatIsRefused() {
        assertThat(serde.serializer().serialize("t", null)).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", new byte[] {9, 0})).isInstanceOf(SerializationException.class)
                .hasMessageContaining("unknown usage format 9");
    }
}
