package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Topics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;

/**
 * The value serde of the versioned key-state store: the topic's JSON, but a state read again with the same bytes
 * is not parsed again. Every request reads its key's state, and parsing it was a seventh of the topology's time
 * (JFR); a key's state changes rarely, so the same bytes come back again and again. States are immutable records,
 * so sharing one decoded instance is safe. Bounded: at {@link #CAPACITY} entries (about 20 MB at most) the memo
 * starts over.
 */
public final class DecodedKeyStates {

    static final int CAPACITY = 16_384;

    private DecodedKeyStates() {
    }

    public static Serde<ApiKeyState> serde() {
        Serde<ApiKeyState> json = Topics.API_KEYS.valueSerde();
        Deserializer<ApiKeyState> parser = json.deserializer();
        Map<Bytes, ApiKeyState> decoded = new ConcurrentHashMap<>();
        return Serdes.serdeFrom(json.serializer(), (topic, data) -> {
            if (data == null) {
                return null;
            }
            Bytes bytes = Bytes.wrap(data);
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
}
