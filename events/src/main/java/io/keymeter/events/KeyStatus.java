package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Status of an API key. */
public enum KeyStatus {
    ACTIVE, EXPIRED, INVALIDATED;

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * A status written by a newer version that this one does not know reads as null, which no reader takes for
     * active: the record failed to read before, and the key's previous state, active say, stayed in force.
     */
    @JsonCreator
    public static KeyStatus fromJson(String json) {
        for (KeyStatus status : values()) {
            if (status.json().equals(json)) {
                return status;
            }
        }
        return null;
    }
}
