package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.metering.KeyFixtures.TestKey;
import java.time.Duration;
import java.time.Instant;
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
        LatestKeyStates small = new LatestKeyStates("small", 2);
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
}
