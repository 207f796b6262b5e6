package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.billing.cycles.BillingCycle;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class StoreKeysTest {

    private static final BillingCycle CYCLE = BillingCycle.parse("2026-11").orElseThrow();

    @Test
    void statementKeysSortInTheOrderTheStatementsWereIssuedPastTenThousand() {
        List<String> issued = IntStream.of(0, 1, 999, 1000, 1001, 9999, 10_000, 10_001, 99_999, 100_000, Integer.MAX_VALUE)
                .mapToObj(n -> StoreKeys.statement("acme", CYCLE, n)).toList();

        // the store lists a cycle's statements in key order; 10000 used to sort between 1000 and 1001
        assertThat(issued).isSorted();
        assertThat(issued.get(1)).isEqualTo(StoreKeys.cyclePrefix("acme", CYCLE) + "0001"); // keys already written
        assertThat(issued).allSatisfy(key -> assertThat(key).startsWith(StoreKeys.cyclePrefix("acme", CYCLE)));
    }

    /** The layout of the stores' keys: what a restart reads back must be what was written before it. */
    @Test
    void keysAreLaidOutAsTheStoresHoldThem() {
        assertThat(StoreKeys.cyclePrefix("acme", CYCLE)).isEqualTo("acme/2026-11/");
        assertThat(StoreKeys.cycle("acme", CYCLE)).isEqualTo("acme/2026-11");
        assertThat(StoreKeys.credential("acme", "c1")).isEqualTo("acme/c1");
        assertThat(StoreKeys.rejections("acme", CYCLE, "c1")).isEqualTo("acme/2026-11/c1");
        assertThat(StoreKeys.rejectionReason("acme", CYCLE, "c1", "expired")).isEqualTo("acme/2026-11/c1/expired");
        assertThat(StoreKeys.alertPrefix("acme", CYCLE, "c1", "key1")).isEqualTo("acme/2026-11/c1/key1/");
    }

    @Test
    void aPendingKeySortsByWhenItIsDueAndSplitsBack() {
        java.time.Instant due = java.time.Instant.ofEpochMilli(1_800_000_000_000L);
        String key = StoreKeys.pending(due, "acme/west", CYCLE);

        assertThat(key).isEqualTo("001800000000000/acme/west/2026-11");
        assertThat(StoreKeys.pendingDueAt(key)).isEqualTo(1_800_000_000_000L);
        assertThat(StoreKeys.pendingAccountAndCycle(key)).containsExactly("acme/west", "2026-11");
        assertThat(StoreKeys.pending(java.time.Instant.ofEpochMilli(999), "acme", CYCLE))
                .isLessThan(StoreKeys.pending(java.time.Instant.ofEpochMilli(1000), "acme", CYCLE));
    }
}
