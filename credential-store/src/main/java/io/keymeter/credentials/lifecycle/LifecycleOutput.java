package io.keymeter.credentials.lifecycle;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;

/** What the command handler forwards: one of four outputs, split by the topology to its topic. Never serialised. */
sealed interface LifecycleOutput {

    record Event(CredentialEvent event) implements LifecycleOutput {
    }

    record KeyState(ApiKeyState state) implements LifecycleOutput {
    }

    /** A dead key leaves {@code keymeter.api-keys}: a tombstone for its keyId. */
    record KeyRemoved(String keyId) implements LifecycleOutput {
    }

    record Reply(CommandReply reply) implements LifecycleOutput {
    }
}
