package io.keymeter.metering.alerts;

import java.time.Instant;

/**
 * What the alert processor remembers per keyId: uses of the key after it became invalid, and the last alert.
 * {@code touchedAt} is when a use last reached this state, by the instance's clock (null in states written before
 * it was kept: their last use stands in).
 */
public record AlertState(String accountId, String credentialId, String reason, long count, Instant firstSeen,
                         Instant lastSeen, Instant lastAlertAt, Instant touchedAt) {

    Instant lastTouched() {
        return touchedAt != null ? touchedAt : lastSeen;
    }
}
