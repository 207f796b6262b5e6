package io.keymeter.events;

import java.time.Instant;
import java.util.List;

/**
 * The state of one API key, as published on the compacted {@code keymeter.api-keys} topic.
 * The record timestamp is {@code updatedAt}, so a versioned table holds the key's history.
 */
public record ApiKeyState(
        String keyId,
        String credentialId,
        String accountId,
        int slot,
        KeyStatus status,
        Instant expiresAt,
        String secretHash,
        List<String> privileges,
        List<String> itemAccess,
        List<String> referrers,
        Instant updatedAt) {

    public ApiKeyState {
        privileges = privileges == null ? List.of() : List.copyOf(privileges);
        itemAccess = itemAccess == null ? List.of() : List.copyOf(itemAccess);
        referrers = referrers == null ? List.of() : List.copyOf(referrers);
    }

    /**
     * Why readers cannot use this state, or null: an active state without the account and credential its accepted
     * usage is billed to (every request it accepted went to the dead letters unbilled, the key's previous state
     * ignored). Written only by other producers: the credential store always sets both. Any other status accepts
     * nothing, so it is used as it is: an invalidation without them still kills the key.
     */
    public static String unusableBecause(ApiKeyState state) {
        if (state.status() != KeyStatus.ACTIVE) {
            return null;
        }
        if (state.accountId() == null || state.accountId().isEmpty()) {
            return "no accountId";
        }
        if (state.credentialId() == null || state.credentialId().isEmpty()) {
            return "no credentialId";
        }
        return null;
    }

    @Override
    public String toString() {
        return "ApiKeyState[keyId=" + keyId + ", credentialId=" + credentialId + ", slot=" + slot
                + ", status=" + status + ", expiresAt=" + expiresAt + ", updatedAt=" + updatedAt + "]";
    }
}
