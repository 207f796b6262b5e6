package io.keymeter.billing.ledger;

import io.keymeter.events.StatementLine;
import java.util.Map;

/**
 * What billing remembers about one account's cycle: whether its final statement was issued, how many adjustments
 * and statements followed, and the per-service lines billed so far (cumulative: what the next adjustment is measured
 * against, at the amounts actually billed).
 */
public record CycleState(boolean closed, int adjustments, int statements, Map<String, StatementLine> billed) {

    public CycleState {
        billed = billed == null ? Map.of() : Map.copyOf(billed);
    }

    public static CycleState open() {
        return new CycleState(false, 0, 0, Map.of());
    }

    public CycleState closedWith(Map<String, StatementLine> lines) {
        return new CycleState(true, 0, statements + 1, lines);
    }

    public CycleState adjustedTo(Map<String, StatementLine> lines) {
        return new CycleState(true, adjustments + 1, statements + 1, lines);
    }
}
