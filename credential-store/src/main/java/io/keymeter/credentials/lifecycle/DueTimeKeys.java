package io.keymeter.credentials.lifecycle;

import java.time.Instant;
import java.util.Locale;

/**
 * Keys of the stores the wall-clock check reads in due order: {@code <due epoch ms, 19 digits>|<id>}. Fixed width, so
 * the string order of the keys is the order of the due times (before 1970: first).
 */
final class DueTimeKeys {

    /**
     * No key sorts below this: the lower bound of every due-time range. Not {@code null}, the open bound: Kafka
     * 4.4's transactional RocksDB store (KIP-892, {@code RocksDBTransactionBuffer.newBaseIterator}) answers a
     * forward {@code range(null, to)} with every committed key from the first to the last, ignoring {@code to}.
     */
    static final String FIRST = prefix(0);

    private DueTimeKeys() {
    }

    static String key(Instant due, String id) {
        return prefix(due.toEpochMilli()) + id;
    }

    /** Every key of a due time at or before {@code now} sorts below this. */
    static String after(Instant now) {
        return prefix(now.toEpochMilli() + 1);
    }

    private static String prefix(long epochMs) {
        return String.format(Locale.ROOT, "%019d|", Math.max(0, epochMs)); // ASCII digits on any host
    }
}
