package io.keymeter.metering.alerts;

import io.keymeter.events.JsonSerde;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The alert store's serde: JSON, and a state this version cannot read (a later version's, damaged bytes) reads as
 * none. Thrown instead, it failed every use of that key (each dead-lettered, the key never alerted again: a stolen
 * key hidden) and every sweep at that state, so the states after it were neither reported nor forgotten. Read as
 * none, a use starts a new count and alerts at once, and the sweep forgets the state ({@link StaleKeyAlerter}).
 */
public final class AlertStateSerde implements Serde<AlertState>, Deserializer<AlertState> {

    private final JsonSerde<AlertState> json = new JsonSerde<>(AlertState.class);

    @Override
    public AlertState deserialize(String topic, byte[] data) {
        try {
            return json.deserialize(topic, data);
        } catch (SerializationException e) {
            return null;
        }
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
