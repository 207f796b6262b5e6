package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonValue;

/** Status of an API key. */
public enum KeyStatus {
    ACTIVE, EXPIRED, INVALIDATED;

    @JsonValue
    public String json() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
