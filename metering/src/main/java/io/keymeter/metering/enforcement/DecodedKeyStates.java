package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Topics;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The value serde of the versioned key-state store: the topic's JSON, but a state read again with the same bytes
 * is not parsed again. Every request reads its key's state, and parsing it was a seventh of the topology's time
 * (JFR); a key's state changes rarely, so the same bytes come back again and again. States are immutable records,
 * so sharing one decoded instance is safe. Bounded: at {@link #CAPACITY} entries (about 20 MB at most) the memo
 * starts over.
 * <p>
 * The memo's key hashes only the length and both ends of the bytes ({@link StateBytes}): hashing all ~400 bytes of
 * every looked-up state was a twentieth of the stream thread (perf, with native frames). The JSON starts with the
 * keyId and ends with {@code updatedAt}, so the ends tell different keys and different versions of one key apart;
 * equality still compares every byte.
 */
public final class DecodedKeyStates {

    static final int CAPACITY = 16_384;

    private DecodedKeyStates() {
    }

    public static Serde<ApiKeyState> serde() {
        Serde<ApiKeyState> json = Topics.API_KEYS.valueSerde();
        Deserializer<ApiKeyState> parser = json.deserializer();
        Map<StateBytes, ApiKeyState> decoded = new ConcurrentHashMap<>();
        return Serdes.serdeFrom(json.serializer(), (topic, data) -> {
            if (data == null) {
                return null;
            }
            StateBytes bytes = new StateBytes(data);
            ApiKeyState state = decoded.get(bytes);
            if (state == null) {
                state = parser.deserialize(topic, data);
                if (decoded.size() >= CAPACITY) {
                    decoded.clear();
                }
                decoded.put(bytes, state);
            }
            return state;
        });
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
