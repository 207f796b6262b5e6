package io.keymeter.billing.ledger;

import io.keymeter.billing.cycles.Totals;
import java.util.Map;
import java.util.TreeMap;

/**
 * What billing remembers about one account's cycle: whether its final statement was issued, how many adjustments
 * followed, and the per-service totals billed so far (what the next adjustment is measured against).
 */
public record CycleState(boolean closed, int adjustments, int statements, Map<String, Totals> billed) {

    public CycleState {
        billed = billed == null ? Map.of() : Map.copyOf(billed);
    }

    public static CycleState open() {
        return new CycleState(false, 0, 0, Map.of());
    }

    public CycleState closedWith(Map<String, Totals> totals) {
        return new CycleState(true, 0, statements + 1, new TreeMap<>(totals));
    }

    public CycleState adjustedTo(Map<String, Totals> totals) {
        return new CycleState(true, adjustments + 1, statements + 1, new TreeMap<>(totals));
    }
}
