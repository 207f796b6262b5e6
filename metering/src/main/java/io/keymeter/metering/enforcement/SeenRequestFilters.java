package io.keymeter.metering.enforcement;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-memory Bloom filters (Guava's) over the deduplicator's store, one per generation, so that a request the store
 * has never seen, nearly every request, is told so without its two RocksDB lookups.
 * <p>
 * A filter may say "maybe" for a request the store does not hold (that costs the lookup it would have cost anyway),
 * never "no" for one it does: each store entry is added to its generation's filter when it is written. After a
 * (re)start the store holds entries no filter has seen, so the generations a lookup can read are answered "maybe"
 * until {@link #rebuild} has read them all back from the store, a batch per call.
 * <p>
 * Memory is bounded: a filter holds {@code capacity} entries at 1 % false positives (about 1.1 MiB a million), and
 * beyond four times that (two in three false) it answers "maybe" without probing. A task keeps one for each
 * generation a lookup may read: two, the current generation's and the previous one's, unless the window changed
 * since the store was written (then as many as the window overlaps, each sized for its share of the window). A
 * filter that steps aside says so in the log, once: metering slows down from then on, and the capacity is a setting.
 */
public final class SeenRequestFilters {

    private static final double FALSE_POSITIVE_RATE = 0.01;

    /** Bytes of one filter for {@code capacity} requests: Guava's optimal bit count at this false-positive rate. */
    public static long bytesOf(long capacity) {
        return (long) Math.ceil(-capacity * Math.log(FALSE_POSITIVE_RATE) / (Math.log(2) * Math.log(2)) / 8);
    }
    private static final int SATURATION = 4;
    private static final Logger LOG = LoggerFactory.getLogger(SeenRequestFilters.class);

    private final long capacity;
    /** Generations a lookup may read, so filters kept: the newest and {@code span - 1} before it. */
    private final int span;
    private final TreeMap<Long, Filter> byGeneration = new TreeMap<>();
    /** Generations at or after this hold only entries added here; before it the store may hold others. */
    private long knownFrom = Long.MIN_VALUE;
    /** The oldest generation read back from the store after a restart, and where that read stands (null: done). */
    private long rebuildFirst;
    private Bytes rebuildFrom;
    /** Filters that stepped aside since this was made. */
    private int saturated;

    /**
     * @param capacity entries a filter holds at its false-positive rate; 0 turns the filters off
     * @param span     generations a lookup may read, at least 2
     */
    SeenRequestFilters(long capacity, int span) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative");
        }
        if (span < 2) {
            throw new IllegalArgumentException("span must be at least 2");
        }
        this.capacity = capacity;
        this.span = span;
    }

    /**
     * Forgets everything: the store already holds entries up to generation {@code newest}, of which a lookup reads the
     * newest {@code span}; they are "maybe" until rebuilt.
     */
    void restart(long newest) {
        byGeneration.clear();
        knownFrom = newest + 1;
        rebuildFirst = newest - (span - 1);
        rebuildFrom = capacity == 0 ? null : Deduplicator.firstKeyOf(rebuildFirst);
    }

    /** False only if the store holds no entry with this key in this generation. */
    boolean mightContain(long generation, Bytes key) {
        if (capacity == 0 || generation < knownFrom) {
            return true;
        }
        Filter filter = byGeneration.get(generation);
        return filter != null && filter.mightContain(key);
    }

    /** Records a key written to the store; filters of generations {@code span} or more behind it are dropped. */
    void add(long generation, Bytes key) {
        if (capacity == 0) {
            return;
        }
        if (filterOf(generation).add(key)) {
            saturated++;
            LOG.warn("A dedupe filter took {} requests of one partition in one generation, four times its capacity "
                    + "({}, from keymeter.metering.dedupe-filter-capacity): it steps aside, and until the generation "
                    + "ends every request of this partition reads the dedupe store, so metering runs slower; raise "
                    + "the capacity to the requests a partition takes in a dedupe window", SATURATION * capacity,
                    capacity);
        }
    }

    boolean rebuilding() {
        return rebuildFrom != null;
    }

    /**
     * Reads up to {@code batch} store entries back into their filters, from where the last call stopped; once the
     * store is read to its end, every generation a lookup can read is known.
     */
    void rebuild(KeyValueStore<Bytes, Long> store, int batch) {
        if (rebuildFrom == null) {
            return;
        }
        try (KeyValueIterator<Bytes, Long> entries = store.range(rebuildFrom, null)) {
            for (int read = 0; read < batch && entries.hasNext(); read++) {
                Bytes key = entries.peekNextKey();
                if (key.equals(Deduplicator.GENERATION_LENGTH_KEY)) {
                    break; // after every entry: the store is read
                }
                entries.next();
                if (!Deduplicator.isRequest(key)) {
                    continue; // the kept request time (generation 0: a rebuild reaches it only in 1970)
                }
                long generation = Deduplicator.generationOf(key);
                if (byGeneration.isEmpty() || generation > byGeneration.lastKey() - span) { // older: out of reach
                    add(generation, key);
                }
            }
            if (entries.hasNext() && !entries.peekNextKey().equals(Deduplicator.GENERATION_LENGTH_KEY)) {
                rebuildFrom = entries.peekNextKey();
                return;
            }
        }
        // entries written since the restart went into their filters as they were written
        knownFrom = rebuildFirst;
        rebuildFrom = null;
    }

    /** Filters held now (for tests of the memory bound). */
    int filters() {
        return byGeneration.size();
    }

    /** Filters that stepped aside, each warned of once. */
    int saturated() {
        return saturated;
    }

    /** The generation's filter, made on first use; a new one drops those {@code span} or more generations behind it. */
    private Filter filterOf(long generation) {
        Filter filter = byGeneration.get(generation);
        if (filter == null) {
            filter = new Filter(capacity);
            byGeneration.put(generation, filter);
            byGeneration.headMap(generation - (span - 1)).clear();
        }
        return filter;
    }

    /** A Bloom filter and how many keys went into it. */
    private static final class Filter {
        private final BloomFilter<byte[]> bloom;
        private final long saturatedAt;
        private long added;

        Filter(long capacity) {
            this.bloom = BloomFilter.create(Funnels.byteArrayFunnel(), capacity, FALSE_POSITIVE_RATE);
            this.saturatedAt = SATURATION * capacity;
        }

        boolean mightContain(Bytes key) {
            return added >= saturatedAt || bloom.mightContain(key.get());
        }

        /** Adds the key; true when this one filled the filter, so that it steps aside from now on. */
        boolean add(Bytes key) {
            if (added >= saturatedAt) {
                return false;
            }
            bloom.put(key.get());
            added++;
            return added == saturatedAt;
        }
    }
}
