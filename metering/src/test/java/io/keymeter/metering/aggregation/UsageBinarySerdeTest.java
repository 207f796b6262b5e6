package io.keymeter.metering.aggregation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.UsageDaily;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.LocalDate;
import java.util.Arrays;
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

    @Test
    void readsFormatOneWrittenBeforeTheCompactForm() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeUTF("acme");
            out.writeUTF("cred-1");
            out.writeUTF("routing");
            out.writeLong(LocalDate.of(2026, 11, 30).toEpochDay());
            out.writeLong(3);
            out.writeLong(11);
        }
        assertThat(serde.deserializer().deserialize("t", bytes.toByteArray()))
                .isEqualTo(new UsageDaily("acme", "cred-1", "routing", LocalDate.of(2026, 11, 30), 3, 11));
    }

    @Test
    void aTruncatedRecordIsASerializationErrorNotAnIndexError() {
        byte[] whole = serde.serializer().serialize("t",
                new UsageDaily("acme", "cred-1", "routing", LocalDate.of(2026, 11, 30), 3, 11));
        for (int length : new int[] {1, 3, 10, whole.length - 1}) {
            byte[] cut = Arrays.copyOf(whole, length);
            assertThatThrownBy(() -> serde.deserializer().deserialize("t", cut))
                    .as("cut at %d bytes", length).isInstanceOf(SerializationException.class);
        }
    }

    /** A field's length is written in two bytes: 65535 bytes are the most, and fit. */
    @Test
    void aFieldOfTheLongestLengthRoundTripsAndALongerOneIsRefused() {
        UsageDaily longest = new UsageDaily("a".repeat(0xFFFF), "cred-1", "geocoding", LocalDate.of(2026, 12, 31), 1, 1);
        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", longest))).isEqualTo(longest);
        UsageDaily longer = new UsageDaily("a".repeat(0x10000), "cred-1", "geocoding", LocalDate.of(2026, 12, 31), 1, 1);
        assertThatThrownBy(() -> serde.serializer().serialize("t", longer)).isInstanceOf(SerializationException.class);
    }
}
