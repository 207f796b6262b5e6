package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Json;
import io.keymeter.events.JsonSerde;
import io.keymeter.events.Topics;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The value serde of the versioned key-state store: the topic's JSON, but a state read again with the same bytes
 * is not parsed again. Every request reads its key's state, and parsing it was a seventh of the topology's time
 * (JFR); a key's state changes rarely, so the same bytes come back again and again. States are immutable records,
 * so sharing one decoded instance is safe. Bounded: at {@link #CAPACITY} entries, or once the states held were
 * {@link #BYTE_BUDGET} bytes of JSON, the memo starts over (about 20 MB of heap at most: a state decoded takes about
 * 1.6 times its JSON, which is kept too). The entry count alone let states near the item-access limit (1,000 ids,
 * some 70 KB of JSON each) hold gigabytes.
 * <p>
 * The memo's key hashes only the length and both ends of the bytes ({@link StateBytes}): hashing all ~400 bytes of
 * every looked-up state was a twentieth of the stream thread (perf, with native frames). The JSON starts with the
 * keyId and ends with {@code updatedAt}, so the ends tell different keys and different versions of one key apart;
 * equality still compares every byte.
 */
public final class DecodedKeyStates {

    static final int CAPACITY = 16_384;
    static final long BYTE_BUDGET = 8L * 1024 * 1024; // 16,384 states of the usual ~400 bytes fit

    private DecodedKeyStates() {
    }

    /**
     * The serde of the topic and of the versioned store. States read from the topic are checked as the topic's serde
     * checks them ({@link ApiKeyState#unusableBecause}: one dead letter, the key's previous state kept); read back
     * from the store (its changelog's name) they are not: it holds what the source let through, or what an earlier
     * version stored, and the table source reads the stored state before each update, so a check there would have
     * dead-lettered every later state of such a key, its invalidation included.
     */
    public static Serde<ApiKeyState> serde() {
        Deserializer<ApiKeyState> unchecked = new JsonSerde<>(ApiKeyState.class, Json.mapper());
        return Serdes.serdeFrom(Topics.API_KEYS.valueSerde().serializer(), new Memo(unchecked, CAPACITY, BYTE_BUDGET));
    }

    /** The deserializer: each distinct state parsed once while it is held, checked each time it comes from the topic. */
    static final class Memo implements Deserializer<ApiKeyState> {

        private final Deserializer<ApiKeyState> parser;
        private final int capacity;
        private final long byteBudget;
        private final Map<StateBytes, ApiKeyState> decoded = new ConcurrentHashMap<>();
        private final AtomicLong bytes = new AtomicLong(); // approximate under concurrent puts: a bound, not a count

        Memo(Deserializer<ApiKeyState> parser, int capacity, long byteBudget) {
            this.parser = parser;
            this.capacity = capacity;
            this.byteBudget = byteBudget;
        }

        @Override
        public ApiKeyState deserialize(String topic, byte[] data) {
            ApiKeyState state = decoded(topic, data);
            String unusable = state != null && Topics.API_KEYS.name().equals(topic)
                    ? ApiKeyState.unusableBecause(state) : null;
            if (unusable != null) {
                throw JsonSerde.unreadable(ApiKeyState.class, topic, unusable);
            }
            return state;
        }

        private ApiKeyState decoded(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            StateBytes key = new StateBytes(data);
            ApiKeyState state = decoded.get(key);
            if (state == null) {
                state = parser.deserialize(topic, data);
                if (data.length > byteBudget) {
                    return state; // never held, rather than emptying the memo on each read
                }
                if (decoded.size() >= capacity || bytes.get() + data.length > byteBudget) {
                    decoded.clear();
                    bytes.set(0);
                }
                if (decoded.put(key, state) == null) {
                    bytes.addAndGet(data.length);
                }
            }
            return state;
        }

        int size() {
            return decoded.size();
        }

        long bytes() {
            return bytes.get();
        }
    }

    /** Bytes of a serialized state with a hash of their length and ends. */
    static final class StateBytes {

        static final int HEAD = 48;
        static final int TAIL = 32;

        private final byte[] data;
        private final int hash;

        StateBytes(byte[] data) {
            this.data = data;
            int h = data.length;
            int head = Math.min(HEAD, data.length);
            for (int i = 0; i < head; i++) {
                h = 31 * h + data[i];
            }
            for (int i = Math.max(head, data.length - TAIL); i < data.length; i++) {
                h = 31 * h + data[i];
            }
            this.hash = h;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof StateBytes that && hash == that.hash && Arrays.equals(data, that.data);
        }
    }
}
