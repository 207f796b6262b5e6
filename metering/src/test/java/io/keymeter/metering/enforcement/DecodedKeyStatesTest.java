package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.metering.KeyFixtures.TestKey;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class DecodedKeyStatesTest {

    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

    private final Serde<ApiKeyState> serde = DecodedKeyStates.serde();

    @Test
    void writesTheTopicsJsonAndParsesTheSameBytesOnce() {
        ApiKeyState state = TestKey.create("acme", "cred-1", 1).state(KeyStatus.ACTIVE, T0.plusSeconds(3600), T0);
        byte[] bytes = serde.serializer().serialize("t", state);
        assertThat(bytes).isEqualTo(Topics.API_KEYS.valueSerde().serializer().serialize("t", state));

        ApiKeyState first = serde.deserializer().deserialize("t", bytes);
        ApiKeyState again = serde.deserializer().deserialize("t", bytes.clone());
        assertThat(first).isEqualTo(state);
        assertThat(again).isSameAs(first);
    }

    @Test
    void differentBytesAreDifferentStatesAlsoPastTheCapacity() {
        TestKey key = TestKey.create("acme", "cred-1", 1);
        ApiKeyState active = key.state(KeyStatus.ACTIVE, T0.plusSeconds(3600), T0);
        ApiKeyState invalidated = key.state(KeyStatus.INVALIDATED, T0.plusSeconds(3600), T0.plusSeconds(5));
        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", invalidated)).status())
                .isEqualTo(KeyStatus.INVALIDATED);
        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", active)).status())
                .isEqualTo(KeyStatus.ACTIVE);
        for (int i = 0; i < DecodedKeyStates.CAPACITY + 10; i++) {
            ApiKeyState other = key.state(KeyStatus.ACTIVE, T0.plusSeconds(i), T0);
            assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", other)).expiresAt())
                    .isEqualTo(T0.plusSeconds(i));
        }
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }

    @Test
    void statesThatDifferOnlyInTheMiddleAreToldApart() {
        TestKey key = TestKey.create("acme", "cred-1", 1);
        // expiry times of the same length: the JSON differs only in the middle
        ApiKeyState shorter = key.state(KeyStatus.ACTIVE, T0.plusSeconds(3600), T0);
        ApiKeyState longer = key.state(KeyStatus.ACTIVE, T0.plusSeconds(7200), T0);
        byte[] shorterBytes = serde.serializer().serialize("t", shorter);
        byte[] longerBytes = serde.serializer().serialize("t", longer);
        // same memo hash (same length and ends), so only the full comparison keeps them apart
        assertThat(new DecodedKeyStates.StateBytes(shorterBytes.clone()))
                .hasSameHashCodeAs(new DecodedKeyStates.StateBytes(longerBytes.clone()))
                .isNotEqualTo(new DecodedKeyStates.StateBytes(longerBytes.clone()));

        assertThat(serde.deserializer().deserialize("t", shorterBytes).expiresAt()).isEqualTo(T0.plusSeconds(3600));
        assertThat(serde.deserializer().deserialize("t", longerBytes).expiresAt()).isEqualTo(T0.plusSeconds(7200));
        assertThat(serde.deserializer().deserialize("t", shorterBytes.clone()).expiresAt()).isEqualTo(T0.plusSeconds(3600));
    }

    /** Counted in entries only, states near the item-access limit (some 70 KB of JSON each) held gigabytes. */
    @Test
    void theMemoStartsOverOnceItHoldsItsBudgetInBytes() {
        Serde<ApiKeyState> json = Topics.API_KEYS.valueSerde();
        DecodedKeyStates.Memo memo = new DecodedKeyStates.Memo(json.deserializer(), 1_000, 200_000);
        List<String> items = IntStream.range(0, 1_000).mapToObj(i -> String.format("%064d", i)).toList();
        for (int i = 0; i < 5; i++) {
            ApiKeyState big = new ApiKeyState("key-" + i, "cred-1", "acme", 1, KeyStatus.ACTIVE, T0.plusSeconds(3600),
                    "ab".repeat(32), List.of("premium:user:basemaps"), items, List.of(), T0);
            byte[] bytes = json.serializer().serialize("t", big);
            assertThat(bytes.length).isGreaterThan(60_000);

            assertThat(memo.deserialize("t", bytes)).isEqualTo(big);
            assertThat(memo.bytes()).isLessThanOrEqualTo(200_000);
        }
        assertThat(memo.size()).isBetween(1, 3);
    }
}
