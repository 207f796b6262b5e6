package io.keymeter.metering.alerts;

import io.keymeter.events.JsonSerde;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The alert store's serde: JSON, and a state this version cannot read (a later version's, damaged bytes, a required
 * field missing) reads as none. Thrown instead, it failed every use of that key (each dead-lettered, the key never
 * alerted again: a stolen key hidden) and every sweep at that state, so the states after it were neither reported
 * nor forgotten. Read as none, a use starts a new count and alerts at once, and the sweep forgets the state
 * ({@link StaleKeyAlerter}).
 */
public final class AlertStateSerde {

    private AlertStateSerde() {
    }

    public static Serde<AlertState> serde() {
        JsonSerde<AlertState> json = new JsonSerde<>(AlertState.class);
        return Serdes.serdeFrom(json, (topic, data) -> {
            try {
                AlertState state = json.deserialize(topic, data);
                return state == null || complete(state) ? state : null;
            } catch (SerializationException e) {
                return null;
            }
        });
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
}
