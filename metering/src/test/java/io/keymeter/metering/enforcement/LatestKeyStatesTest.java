package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.metering.KeyFixtures.TestKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.kafka.streams.state.VersionedRecord;
import org.junit.jupiter.api.Test;

class LatestKeyStatesTest {

    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

    private final LatestKeyStates latest = LatestKeyStates.builder("latest").build();
    private final TestKey key = TestKey.create("acme", "cred-1", 1);
    private final ApiKeyState active = key.state(KeyStatus.ACTIVE, T0.plus(Duration.ofDays(30)), T0);

    @Test
    void theLatestStateAnswersFromItsStartOnAndNotBefore() {
        latest.remember(key.keyId(), new VersionedRecord<>(active, T0.toEpochMilli()));

        assertThat(latest.get(key.keyId(), T0.toEpochMilli()).value()).isSameAs(active);
        assertThat(latest.get(key.keyId(), T0.plusSeconds(3600).toEpochMilli()).value()).isSameAs(active);
        assertThat(latest.get(key.keyId(), T0.toEpochMilli() - 1)).isNull();
        assertThat(latest.holds(key.keyId())).isTrue();
    }

    @Test
    void aForgottenKeyIsReadFromTheStoreAgain() {
        latest.remember(key.keyId(), new VersionedRecord<>(active, T0.toEpochMilli()));

        latest.forget(key.keyId());

        assertThat(latest.get(key.keyId(), T0.plusSeconds(1).toEpochMilli())).isNull();
        assertThat(latest.holds(key.keyId())).isFalse();
    }

    @Test
    void atCapacityItStartsOver() {
        LatestKeyStates small = new LatestKeyStates("small", 2, LatestKeyStates.ENTRY_BUDGET);
        VersionedRecord<ApiKeyState> state = new VersionedRecord<>(active, T0.toEpochMilli());
        small.remember("a", state);
        small.remember("b", state);
        small.remember("b", state); // a key already held: no room needed

        assertThat(small.size()).isEqualTo(2);
        small.remember("c", state);

        assertThat(small.size()).isEqualTo(1);
        assertThat(small.get("c", T0.toEpochMilli())).isSameAs(state);
        assertThat(small.get("a", T0.toEpochMilli())).isNull();
    }

    /** Counted in keys only, states near the item-access limit (1,000 ids each) held gigabytes a task. */
    @Test
    void itStartsOverOnceItsStatesListTooManyItemsOrReferrers() {
        LatestKeyStates small = new LatestKeyStates("small", 100, 2_500);
        List<String> items = IntStream.range(0, 1_000).mapToObj(i -> "item-" + i).toList();
        ApiKeyState big = new ApiKeyState(key.keyId(), "cred-1", "acme", 1, KeyStatus.ACTIVE, T0.plus(Duration.ofDays(30)),
                "ab".repeat(32), List.of("premium:user:basemaps"), items, List.of("https://*.example.com"), T0);
        VersionedRecord<ApiKeyState> state = new VersionedRecord<>(big, T0.toEpochMilli());
        small.remember("a", state);
        small.remember("b", state);
        small.remember("b", state); // the same key again: counted once

        assertThat(small.size()).isEqualTo(2);
        assertThat(small.entries()).isEqualTo(2_002);
        small.remember("c", state);

        assertThat(small.size()).isEqualTo(1);
        assertThat(small.entries()).isEqualTo(1_001);
        assertThat(small.get("c", T0.toEpochMilli())).isSameAs(state);
        small.forget("c");
        assertThat(small.entries()).isZero();
    }
}
