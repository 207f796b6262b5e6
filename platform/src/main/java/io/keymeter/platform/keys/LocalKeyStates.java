package io.keymeter.platform.keys;

import io.keymeter.events.ApiKeyState;

/**
 * The key states this process's {@code /v1/verify} answers from, when the metering role runs here. The credential
 * store holds a change's answer until they show it, so that on this instance a key just issued verifies valid and a
 * key just killed is refused as soon as the call returns.
 */
public interface LocalKeyStates {

    /** The latest state of a key, or null when there is none. */
    ApiKeyState get(String keyId);

    /** False while verify answers 503 (not caught up, its reader down): waiting for it then would be in vain. */
    boolean current();
}
