package io.keymeter.metering.alerts;

import java.time.Instant;

/** What the alert processor remembers per keyId: uses of the key after it became invalid, and the last alert. */
public record AlertState(String accountId, String credentialId, String reason, long count, Instant firstSeen,
                         Instant lastSeen, Instant lastAlertAt) {
}
