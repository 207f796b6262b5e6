package io.keymeter.metering.alerts;

import java.time.Instant;

/**
 * What the alert processor remembers per keyId: uses of the key after it became invalid, and the last alert.
 * {@code touchedAt} is when a use last reached this state, by the instance's clock (null in states written before
 * it was kept: their last use stands in). {@code lastAlertAt} is the last use the last alert reported (request time),
 * {@code alertedCount} its count and {@code alertedAt} when it was sent, by the instance's clock (both null in states
 * written before they were kept).
 */
public record AlertState(String accountId, String credentialId, String reason, long count, Instant firstSeen,
                         Instant lastSeen, Instant lastAlertAt, Instant touchedAt, Long alertedCount,
                         Instant alertedAt) {

    Instant lastTouched() {
        return touchedAt != null ? touchedAt : lastSeen;
    }

    /** The same uses, reported now (by the instance's clock {@code now}) in an alert. */
    AlertState alerted(Instant now) {
        return new AlertState(accountId, credentialId, reason, count, firstSeen, lastSeen, lastSeen, touchedAt, count, now);
    }
}
