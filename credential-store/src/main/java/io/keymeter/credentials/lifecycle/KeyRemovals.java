package io.keymeter.credentials.lifecycle;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * When a dead key (invalidated or expired) leaves {@code keymeter.api-keys}: {@code <due epoch ms, 19 digits>|<keyId>}
 * → keyId, due {@code keymeter.keys.forget-after} after the key's last state. Without it every key ever generated
 * stays on the compacted topic, and in every reader's memory, for good. Changelogged, unlike the indexes: a key
 * regenerated away or of a deleted credential is in no stored credential, so this is the only record of it.
 */
final class KeyRemovals {

    private final KeyValueStore<String, String> schedule;
    private final Duration forgetAfter;

    KeyRemovals(KeyValueStore<String, String> schedule, Duration forgetAfter) {
        this.schedule = schedule;
        this.forgetAfter = forgetAfter;
    }

    /** Schedules the removal of a key whose published state is its last (a dead key never changes again). */
    void scheduleIfDead(ApiKeyState state) {
        if (state.status() != KeyStatus.ACTIVE) {
            schedule.put(DueTimeKeys.key(state.updatedAt().plus(forgetAfter), state.keyId()), state.keyId());
        }
    }

    /** The ids of at most {@code limit} keys due at or before {@code now}, earliest first, each taken off the schedule. */
    List<String> takeDue(Instant now, int limit) {
        List<String> keyIds = new ArrayList<>();
        for (KeyValue<String, String> entry : DueTimeKeys.due(schedule, now, limit)) {
            schedule.delete(entry.key);
            keyIds.add(entry.value);
        }
        return keyIds;
    }
}
