package io.keymeter.billing.ledger;

import io.keymeter.billing.catalog.CyclePrices;
import io.keymeter.events.StatementLine;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What billing remembers about one account's cycle: whether its final statement was issued, how many adjustments
 * and statements followed, the per-service lines billed so far (cumulative: what the next adjustment is measured
 * against, at the amounts actually billed), and the prices it closed with (null while open, and for a cycle closed
 * by a version that did not keep them), at which its adjustments are priced, and when its last statement was issued
 * (null while open, and for a cycle closed by a version that did not keep it), which spaces its adjustments.
 */
public record CycleState(boolean closed, int adjustments, int statements, Map<String, StatementLine> billed,
                         CyclePrices prices, Instant lastIssuedAt) {

    public CycleState {
        billed = billed == null ? Map.of() : Map.copyOf(billed);
    }

    public static CycleState open() {
        return new CycleState(false, 0, 0, Map.of(), null, null);
    }

    public CycleState closedWith(Map<String, StatementLine> lines, CyclePrices closingPrices, Instant issuedAt) {
        return new CycleState(true, 0, statements + 1, lines, closingPrices, issuedAt);
    }

    public CycleState adjustedTo(Map<String, StatementLine> lines, Instant issuedAt) {
        return new CycleState(true, adjustments + 1, statements + 1, lines, prices, issuedAt);
    }

    /**
     * When the cycle's next adjustment may be issued: {@code interval} after its last statement, not before its end
     * (a state kept by a version without {@code lastIssuedAt}: its end, at once).
     */
    public Instant nextAdjustmentAt(Instant end, Duration interval) {
        if (lastIssuedAt == null) {
            return end;
        }
        Instant next = lastIssuedAt.plus(interval);
        return next.isAfter(end) ? next : end;
    }
}
