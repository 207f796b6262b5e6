package io.keymeter.testsupport.load;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One simulated API key and its whole life: the generator's ground truth about it. */
final class SimKey {

    final String accountId;
    final String credentialId;
    final int slot;
    final ApiKeys.GeneratedKey key;
    final Instant createdAt;
    final Instant expiresAt;
    final List<String> privileges;
    final List<String> itemAccess;
    final List<String> referrers;
    Instant invalidatedAt;

    SimKey(String accountId, String credentialId, int slot, ApiKeys.GeneratedKey key, Instant createdAt, Instant expiresAt,
           List<String> privileges, List<String> itemAccess, List<String> referrers) {
        this.accountId = accountId;
        this.credentialId = credentialId;
        this.slot = slot;
        this.key = key;
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
        this.privileges = List.copyOf(privileges);
        this.itemAccess = List.copyOf(itemAccess);
        this.referrers = List.copyOf(referrers);
    }

    boolean existsAt(Instant t) {
        return !t.isBefore(createdAt);
    }

    boolean invalidatedAt(Instant t) {
        return invalidatedAt != null && !t.isBefore(invalidatedAt);
    }

    boolean expiredAt(Instant t) {
        return !t.isBefore(expiresAt);
    }

    boolean usableAt(Instant t) {
        return existsAt(t) && !invalidatedAt(t) && !expiredAt(t);
    }

    /** The key-state records credential-store would publish for this key, in time order. */
    List<ApiKeyState> states(Instant horizon) {
        List<ApiKeyState> states = new ArrayList<>();
        states.add(state(KeyStatus.ACTIVE, createdAt));
        if (invalidatedAt != null && (expiresAt.isAfter(invalidatedAt))) {
            states.add(state(KeyStatus.INVALIDATED, invalidatedAt));
        } else if (expiresAt.isBefore(horizon)) {
            states.add(state(KeyStatus.EXPIRED, expiresAt));
        }
        return states;
    }

    private ApiKeyState state(KeyStatus status, Instant at) {
        return new ApiKeyState(key.keyId(), credentialId, accountId, slot, status, expiresAt, key.secretHash(), privileges,
                itemAccess, referrers, at);
    }
}
