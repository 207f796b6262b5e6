package io.keymeter.credentials.lifecycle;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;
import java.util.List;

/**
 * What handling one command (or one expiry check) decided: the events to append, the key states to publish (in
 * order), the credential's new state (null: gone) and, for a command, its reply. Nothing here is applied yet.
 */
public record Decision(List<CredentialEvent> events, List<ApiKeyState> keyStates, Credential state, CommandReply reply) {

    public Decision {
        events = List.copyOf(events);
        keyStates = List.copyOf(keyStates);
    }

    public boolean changed() {
        return !events.isEmpty();
    }
}
