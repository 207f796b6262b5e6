package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.VersionedRecord;

/**
 * Per task, the latest state of each key the judge has read, in memory: a request at or after the moment that
 * state began is judged by it without a read of the versioned store (a RocksDB lookup and a parse of the state
 * were 16 % of the stream thread, perf). Only a latest version is kept, because only a newer put can change what
 * it answers: a late update stamped before it fills in history and leaves {@code [timestamp, ∞)} alone, while any
 * put that becomes the latest reaches {@link KeyStateChangeListener}, which forgets the key. An older request
 * still reads the store.
 * <p>
 * Not changelogged: it starts empty whenever its task (re)starts. Bounded: at most one state per key that was asked
 * for, and at {@link #CAPACITY} keys, or once the states held list {@link #ENTRY_BUDGET} item ids and referrers
 * between them, it starts over (about 10 MB a task at most; the states it holds would otherwise outlive
 * {@link DecodedKeyStates}'s bounded memo, and keys near the item-access limit, 1,000 ids each, held gigabytes).
 */
public final class LatestKeyStates implements StateStore {

    static final int CAPACITY = 16_384;
    static final long ENTRY_BUDGET = 65_536; // some 7 MB of 64-character item ids

    private final String name;
    private final int capacity;
    private final long entryBudget;
    private final Map<String, VersionedRecord<ApiKeyState>> latest = new HashMap<>();
    private long entries;
    private boolean open;

    LatestKeyStates(String name, int capacity, long entryBudget) {
        this.name = name;
        this.capacity = capacity;
        this.entryBudget = entryBudget;
    }

    /** A builder for the topology: in memory, never logged. */
    public static StoreBuilder<LatestKeyStates> builder(String name) {
        return new Builder(name);
    }

    /** The key's state at {@code timestamp}, if it is the latest one held and began at or before it; else null. */
    VersionedRecord<ApiKeyState> get(String keyId, long timestamp) {
        VersionedRecord<ApiKeyState> state = latest.get(keyId);
        return state != null && state.timestamp() <= timestamp ? state : null;
    }

    /** Whether a latest state is held for the key (whatever time it began). */
    boolean holds(String keyId) {
        return latest.containsKey(keyId);
    }

    /** Keeps the key's latest state, as the versioned store's {@code get(key)} answered it. */
    void remember(String keyId, VersionedRecord<ApiKeyState> state) {
        forget(keyId);
        long weight = entriesOf(state);
        if (latest.size() >= capacity || entries + weight > entryBudget) {
            clear();
        }
        latest.put(keyId, state);
        entries += weight;
    }

    /** The key's state changed: the next request reads the versioned store again. */
    void forget(String keyId) {
        VersionedRecord<ApiKeyState> held = latest.remove(keyId);
        if (held != null) {
            entries -= entriesOf(held);
        }
    }

    /** Forgets every key: the next request for each reads the versioned store again. */
    void clear() {
        latest.clear();
        entries = 0;
    }

    /** The item ids and referrers the states held list between them. */
    long entries() {
        return entries;
    }

    private static long entriesOf(VersionedRecord<ApiKeyState> state) {
        return state.value().itemAccess().size() + state.value().referrers().size();
    }

    int size() {
        return latest.size();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        clear();
        context.register(root, (key, value) -> { }); // nothing to restore: the versioned store is the record
        open = true;
    }

    @Override
    public void close() {
        clear();
        open = false;
    }

    @Override
    public boolean persistent() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    private record Builder(String name) implements StoreBuilder<LatestKeyStates> {

        @Override
        public StoreBuilder<LatestKeyStates> withCachingEnabled() {
            return this;
        }

        @Override
        public StoreBuilder<LatestKeyStates> withCachingDisabled() {
            return this;
        }

        @Override
        public StoreBuilder<LatestKeyStates> withLoggingEnabled(Map<String, String> config) {
            throw new UnsupportedOperationException("derived from the versioned key-state store: never logged");
        }

        @Override
        public StoreBuilder<LatestKeyStates> withLoggingDisabled() {
            return this;
        }

        @Override
        public LatestKeyStates build() {
            return new LatestKeyStates(name, CAPACITY, ENTRY_BUDGET);
        }

        @Override
        public Map<String, String> logConfig() {
            return Map.of();
        }

        @Override
        public boolean loggingEnabled() {
            return false;
        }
    }
}
