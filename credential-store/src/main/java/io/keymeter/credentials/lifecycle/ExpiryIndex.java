package io.keymeter.credentials.lifecycle;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Which credentials the wall-clock check must look at: {@code <due epoch ms, 19 digits>|<credentialId>} →
 * credentialId, ordered by due time, so a check reads only what is due instead of the whole credentials store.
 * Derived data: not changelogged, rebuilt from the credentials store whenever the task starts
 * ({@link CredentialCommandHandler}).
 */
final class ExpiryIndex {

    private final KeyValueStore<String, String> index;
    private final CredentialDecider decider;

    ExpiryIndex(KeyValueStore<String, String> index, CredentialDecider decider) {
        this.index = index;
        this.decider = decider;
    }

    /** Moves a credential's entry from its previous state's due time to its new one (null state: none). */
    void update(String credentialId, Credential before, Credential after) {
        Optional<String> from = dueKey(credentialId, before);
        Optional<String> to = dueKey(credentialId, after);
        if (from.equals(to)) {
            return;
        }
        from.ifPresent(index::delete);
        to.ifPresent(key -> index.put(key, credentialId));
    }

    /** The ids of at most {@code limit} credentials due at or before {@code now}, earliest first. */
    List<String> due(Instant now, int limit) {
        return DueTimeKeys.due(index, now, limit).stream().map(entry -> entry.value).toList();
    }

    private Optional<String> dueKey(String credentialId, Credential state) {
        return state == null ? Optional.empty()
                : decider.nextExpiryCheck(state).map(at -> DueTimeKeys.key(at, credentialId));
    }
}
