package io.keymeter.credentials.lifecycle;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keys of the stores the wall-clock checks read in due order, {@code <due epoch ms, 19 digits>|<id>}, and that read.
 * Fixed width, so the string order of the keys is the order of the due times (before 1970: first).
 */
final class DueTimeKeys {

    /**
     * No key sorts below this: the lower bound of every due-time range. Not {@code null}, the open bound: Kafka
     * 4.4's transactional RocksDB store (KIP-892, {@code RocksDBTransactionBuffer.newBaseIterator}) answers a
     * forward {@code range(null, to)} with every committed key from the first to the last, ignoring {@code to}.
     */
    private static final String FIRST = prefix(0);

    private DueTimeKeys() {
    }

    static String key(Instant due, String id) {
        return prefix(due.toEpochMilli()) + id;
    }

    /** The entries of {@code store} due at or before {@code now}, at most {@code limit} of them, earliest first. */
    static List<KeyValue<String, String>> due(KeyValueStore<String, String> store, Instant now, int limit) {
        List<KeyValue<String, String>> due = new ArrayList<>();
        // every key of a due time at or before now sorts below the bare prefix of now + 1 ms
        try (KeyValueIterator<String, String> entries = store.range(FIRST, prefix(now.toEpochMilli() + 1))) {
            while (entries.hasNext() && due.size() < limit) {
                due.add(entries.next());
            }
        }
        return due;
    }

    private static String prefix(long epochMs) {
        return String.format(Locale.ROOT, "%019d|", Math.max(0, epochMs)); // ASCII digits on any host
    }
}
