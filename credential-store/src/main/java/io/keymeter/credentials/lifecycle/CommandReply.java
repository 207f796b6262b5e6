package io.keymeter.credentials.lifecycle;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.List;

/**
 * The outcome of one command, on {@code keymeter.credential-replies} keyed by command id, committed in the same
 * transaction as the command's events. {@code credential} is the state after the command, without secret hashes
 * (null when the credential is gone or was never found); {@code keyStates} the key states it published to
 * {@code keymeter.api-keys} (without hashes), for the API to wait until this instance's verify has read them. A
 * reply of an earlier version has none.
 */
public record CommandReply(String commandId, Outcome outcome, String field, String message, Credential credential,
                           List<PublishedKey> keyStates) {

    public CommandReply {
        keyStates = keyStates == null ? List.of() : List.copyOf(keyStates);
    }

    /** One key state a command published: a key regenerated away is no longer in the credential, but is here. */
    public record PublishedKey(String keyId, KeyStatus status, Instant updatedAt) {

        static PublishedKey of(ApiKeyState state) {
            return new PublishedKey(state.keyId(), state.status(), state.updatedAt());
        }
    }

    public enum Outcome {
        /** Applied: events and key states are committed. */
        APPLIED,
        /** Refused, a field is wrong given the current state; nothing changed. */
        INVALID,
        /** No such credential for this account, or no key in the slot; nothing changed. */
        NOT_FOUND,
        /** Refused by the current state (slot holds an active key…); nothing changed. */
        CONFLICT,
        /** Reached the processor after its deadline; nothing changed. */
        EXPIRED,
        /** Conditional ({@code If-Match}) on versions the credential is no longer at; nothing changed. */
        PRECONDITION_FAILED
    }

    public static CommandReply applied(String commandId, Credential credential, List<ApiKeyState> published) {
        return new CommandReply(commandId, Outcome.APPLIED, null, null,
                credential == null ? null : credential.withoutSecrets(),
                published.stream().map(PublishedKey::of).toList());
    }

    public static CommandReply refused(String commandId, Outcome outcome, String field, String message) {
        return new CommandReply(commandId, outcome, field, message, null, List.of());
    }
}
