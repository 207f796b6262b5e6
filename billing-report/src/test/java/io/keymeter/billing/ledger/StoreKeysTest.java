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
}
