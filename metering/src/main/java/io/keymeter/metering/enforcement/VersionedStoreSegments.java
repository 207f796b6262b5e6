package io.keymeter.metering.enforcement;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * Works around a Kafka Streams 4.4 defect: a RocksDB versioned store reopened on its own state directory (every
 * restart, and every task that comes back to an instance that kept its state) does not see the history it holds.
 * <p>
 * Older versions of each key live in logical segments of one RocksDB instance, and a lookup as of a time before the
 * latest version reads only the segments the store has registered. Segments are registered when a write creates them
 * (which a restore from the changelog does), but reopening the store registers none
 * ({@code LogicalKeyValueSegments.openExisting} opens the database only). So after a restart
 * {@code get(key, asOf)} answers {@code null} for every time before a key's latest change until some later write
 * happens to touch the same segment: a request made before an invalidation but judged after a restart was refused as
 * {@code unknown-key}, not billed (found by {@code MeteringRestoreTest}). Expired segments were never cleaned either.
 * <p>
 * {@link #registerExisting} registers every segment the database holds, found by seeking from one segment id prefix
 * to the next. It reaches Kafka's internal classes by reflection; if they change, it fails loudly rather than let
 * history vanish (the test above pins it on every build).
 */
final class VersionedStoreSegments {

    private static final String VERSIONED_STORE = "org.apache.kafka.streams.state.internals.RocksDBVersionedStore";

    private VersionedStoreSegments() {
    }

    /** Registers the segments of the RocksDB versioned store under {@code store}; returns how many it found. */
    static int registerExisting(StateStore store) {
        try {
            Object versioned = innermost(store);
            if (!versioned.getClass().getName().equals(VERSIONED_STORE)) {
                return 0; // another implementation (not RocksDB): nothing to repair
            }
            Object segments = field(versioned, "segmentStores");
            Object physical = method(segments.getClass(), "physicalStore").invoke(segments);
            // the database's own range: its public one refuses callers that do not track their iterators
            Method range = method(physical.getClass(), "range", Bytes.class, Bytes.class, Set.class);
            Method register = method(segments.getClass(), "getOrCreateSegment", long.class, StateStoreContext.class);
            int registered = 0;
            long from = 0;
            // keys start with their segment id (8 bytes, big-endian); the latest values' reserved id -1 sorts last
            while (true) {
                long id;
                try (KeyValueIterator<?, ?> keys = (KeyValueIterator<?, ?>) range.invoke(physical,
                        Bytes.wrap(idBytes(from)), null, new HashSet<>())) {
                    if (!keys.hasNext()) {
                        return registered;
                    }
                    id = ByteBuffer.wrap(((Bytes) keys.peekNextKey()).get()).getLong();
                }
                if (id < 0) {
                    return registered;
                }
                register.invoke(segments, id, null); // logical segments open nothing: no context needed
                registered++;
                from = id + 1;
            }
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot register the versioned store's segments (Kafka Streams' "
                    + "internals changed): without it history written before a restart is not found", e);
        }
    }

    /** Down through Streams' wrapping layers and the bytes-store adapter to the store itself. */
    private static Object innermost(StateStore store) throws ReflectiveOperationException {
        Object current = store;
        while (true) {
            if (current instanceof WrappedStateStore<?, ?, ?> wrapped) {
                current = wrapped.wrapped();
            } else if (current.getClass().getSimpleName().equals("VersionedKeyValueToBytesStoreAdapter")) {
                current = field(current, "inner");
            } else {
                return current;
            }
        }
    }

    /** A method declared by {@code type} or a class it extends, whatever its access. */
    private static Method method(Class<?> type, String name, Class<?>... parameters) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Method method = c.getDeclaredMethod(name, parameters);
                method.setAccessible(true);
                return method;
            } catch (NoSuchMethodException e) {
                // declared further up
            }
        }
        throw new NoSuchMethodException(type.getName() + "." + name);
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return field.get(owner);
    }

    private static byte[] idBytes(long id) {
        return ByteBuffer.allocate(Long.BYTES).putLong(id).array();
    }
}
