package io.keymeter.billing.ledger;

import java.time.Duration;

/**
 * How much the ledger's punctuation does at once, and how long a final statement waits for its input.
 *
 * @param maxSettledPerPunctuation cycles settled by one punctuation at most: closing a month of many accounts must
 *                                 never outlast the exactly-once transaction; the rest stays pending for the next one
 * @param settleBudget             wall-clock time one punctuation spends settling at most, for the same reason
 * @param idle                     no input for this long: the task has read what there is, and settles what is due
 *                                 without a newer record
 * @param maxCatchUp               a final statement waits for the input to be read up to its close at most this long
 *                                 (input stamped in the past keeps coming)
 */
record LedgerLimits(int maxSettledPerPunctuation, Duration settleBudget, Duration idle, Duration maxCatchUp) {

    static final LedgerLimits DEFAULTS = new LedgerLimits(2_000, Duration.ofSeconds(2), Duration.ofSeconds(30),
            Duration.ofHours(1));
}
