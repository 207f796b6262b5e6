package io.keymeter.metering.alerts;

import java.time.Duration;
import java.time.Instant;

/**
 * What the alert processor remembers per keyId: uses of the key after it became invalid, and the last alert.
 * {@code touchedAt} is when a use last reached this state, by the instance's clock (null in states written before
 * it was kept: their last use stands in). {@code lastAlertAt} is the request time the next alert from a use counts its
 * interval from: the last use the last alert reported, or, when the sweep sent it, that moment in the uses' time
 * ({@link #swept}). {@code alertedCount} is the last alert's count and {@code alertedAt} when it was sent, by the
 * instance's clock (both null in states written before they were kept). {@code lastSeenArrivedAt} is when the use
 * at {@code lastSeen} arrived, by the instance's clock: a use made earlier and arriving later (a gateway's buffer)
 * moves {@code touchedAt}, not it (null in states written before it was kept: {@link #lastTouched} stands in).
 */
public record AlertState(String accountId, String credentialId, String reason, long count, Instant firstSeen,
                         Instant lastSeen, Instant lastAlertAt, Instant touchedAt, Long alertedCount,
                         Instant alertedAt, Instant lastSeenArrivedAt) {

    Instant lastTouched() {
        return touchedAt != null ? touchedAt : lastSeen;
    }

    /** When the use at {@code lastSeen} arrived; for a state written before that was kept, its last touch. */
    Instant lastSeenArrival() {
        return lastSeenArrivedAt != null ? lastSeenArrivedAt : lastTouched();
    }

    /** The same uses, reported now (by the instance's clock {@code now}) in an alert a use brought. */
    AlertState alerted(Instant now) {
        return new AlertState(accountId, credentialId, reason, count, firstSeen, lastSeen, lastSeen, touchedAt, count, now,
                lastSeenArrivedAt);
    }

    /**
     * The same uses, reported now by the sweep: the next use's alert is due an interval after this moment in the
     * uses' time, taken as the last use's time plus the instance's time since that use arrived (live traffic: now; a
     * backlog: just past its last use). Counted from the last use reported, a key in steady use alerted again within
     * the hour of the sweep's report (uses every 35 minutes: 42 minutes after it).
     */
    AlertState swept(Instant now) {
        Duration sinceArrival = Duration.between(lastSeenArrival(), now);
        Instant reportedAt = sinceArrival.isNegative() ? lastSeen : lastSeen.plus(sinceArrival);
        return new AlertState(accountId, credentialId, reason, count, firstSeen, lastSeen, reportedAt, touchedAt, count,
                now, lastSeenArrivedAt);
    }
}
