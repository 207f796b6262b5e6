package io.keymeter.credentials.lifecycle;

/**
 * The outcome of one command, on {@code keymeter.credential-replies} keyed by command id, committed in the same
 * transaction as the command's events. {@code credential} is the state after the command, without secret hashes
 * (null when the credential is gone or was never found).
 */
public record CommandReply(String commandId, Outcome outcome, String field, String message, Credential credential) {

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
        EXPIRED
    }

    public static CommandReply applied(String commandId, Credential credential) {
        return new CommandReply(commandId, Outcome.APPLIED, null, null, credential == null ? null : credential.withoutSecrets());
    }

    public static CommandReply refused(String commandId, Outcome outcome, String field, String message) {
        return new CommandReply(commandId, outcome, field, message, null);
    }
}
