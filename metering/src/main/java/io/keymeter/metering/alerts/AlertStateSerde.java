package io.keymeter.metering.alerts;

import io.keymeter.events.JsonSerde;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The alert store's serde: JSON, and a state this version cannot read (a later version's, damaged bytes, a required
 * field missing) reads as none. Thrown instead, it failed every use of that key (each dead-lettered, the key never alerted again: a stolen
 * key hidden) and every sweep at that state, so the states after it were neither reported nor forgotten. Read as
 * none, a use starts a new count and alerts at once, and the sweep forgets the state ({@link StaleKeyAlerter}).
 */
public final class AlertStateSerde implements Serde<AlertState>, Deserializer<AlertState> {

    private final JsonSerde<AlertState> json = new JsonSerde<>(AlertState.class);

    @Override
    public AlertState deserialize(String topic, byte[] data) {
        try {
            AlertState state = json.deserialize(topic, data);
            return state == null || complete(state) ? state : null;
        } catch (SerializationException e) {
            return null;
        }
    }

    /**
     * Whether a state has what every state this version writes has (not {@code accountId}: it comes from the key
     * state, which metering does not require to carry one). Unknown fields are ignored on reading, so a later
     * version's state with fields renamed parses with these missing, and failed at its first use (a null time).
     */
    private static boolean complete(AlertState state) {
        return state.credentialId() != null && state.reason() != null && state.count() >= 1
                && state.firstSeen() != null && state.lastSeen() != null;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
    }

    @Override
    public void close() {
    }

    @Override
    public Serializer<AlertState> serializer() {
        return json;
    }

    @Override
    public Deserializer<AlertState> deserializer() {
        return this;
    }
}
