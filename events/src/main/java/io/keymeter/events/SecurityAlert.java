package io.keymeter.events;

import java.time.Instant;

/** Repeated use of an invalidated or expired key, on {@code keymeter.security-alerts}. */
public record SecurityAlert(
        String kind,
        String accountId,
        String credentialId,
        String keyId,
        String reason,
        long count,
        Instant firstSeen,
        Instant lastSeen) {
}
