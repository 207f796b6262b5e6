package io.keymeter.credentials.lifecycle;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.List;

/**
 * A change asked of one credential, on {@code keymeter.credential-commands} keyed by credentialId, so one stream
 * task is the single writer of each credential. {@code deadline}: a command still unprocessed after it is refused
 * unapplied (the HTTP caller has given up on it by then). Commands never carry a plaintext key: only its keyId and
 * the SHA-256 of its secret. {@code ifMatch}: the credential versions the caller's {@code If-Match} named; a change
 * is applied only while the credential is at one of them (null: unconditional; empty: none can match).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = CredentialCommand.CreateCredential.class, name = "create-credential"),
        @JsonSubTypes.Type(value = CredentialCommand.ChangePrivileges.class, name = "change-privileges"),
        @JsonSubTypes.Type(value = CredentialCommand.ChangeItemAccess.class, name = "change-item-access"),
        @JsonSubTypes.Type(value = CredentialCommand.ChangeReferrers.class, name = "change-referrers"),
        @JsonSubTypes.Type(value = CredentialCommand.DeleteCredential.class, name = "delete-credential"),
        @JsonSubTypes.Type(value = CredentialCommand.GenerateKey.class, name = "generate-key"),
        @JsonSubTypes.Type(value = CredentialCommand.RegenerateKey.class, name = "regenerate-key"),
        @JsonSubTypes.Type(value = CredentialCommand.InvalidateKey.class, name = "invalidate-key")
})
public sealed interface CredentialCommand {

    String commandId();

    String credentialId();

    String accountId();

    Instant deadline();

    /** The versions this change is conditional on, or null when it is not conditional. */
    default List<Long> ifMatch() {
        return null;
    }

    record CreateCredential(String commandId, String credentialId, String accountId, Instant deadline,
                            String name, List<String> privileges, List<String> itemAccess, List<String> referrers)
            implements CredentialCommand {
    }

    record ChangePrivileges(String commandId, String credentialId, String accountId, Instant deadline,
                            List<String> privileges, List<Long> ifMatch) implements CredentialCommand {
        /** Unconditional. */
        public ChangePrivileges(String commandId, String credentialId, String accountId, Instant deadline,
                                List<String> privileges) {
            this(commandId, credentialId, accountId, deadline, privileges, null);
        }
    }

    record ChangeItemAccess(String commandId, String credentialId, String accountId, Instant deadline,
                            List<String> itemAccess, List<Long> ifMatch) implements CredentialCommand {
        /** Unconditional. */
        public ChangeItemAccess(String commandId, String credentialId, String accountId, Instant deadline,
                                List<String> itemAccess) {
            this(commandId, credentialId, accountId, deadline, itemAccess, null);
        }
    }

    record ChangeReferrers(String commandId, String credentialId, String accountId, Instant deadline,
                           List<String> referrers, List<Long> ifMatch) implements CredentialCommand {
        /** Unconditional. */
        public ChangeReferrers(String commandId, String credentialId, String accountId, Instant deadline,
                               List<String> referrers) {
            this(commandId, credentialId, accountId, deadline, referrers, null);
        }
    }

    record DeleteCredential(String commandId, String credentialId, String accountId, Instant deadline,
                            List<Long> ifMatch)
            implements CredentialCommand {
        /** Unconditional. */
        public DeleteCredential(String commandId, String credentialId, String accountId, Instant deadline) {
            this(commandId, credentialId, accountId, deadline, null);
        }
    }

    /** {@code slot} null: the first slot without an active key. */
    record GenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                       Integer slot, String keyId, String secretHash, Instant expiresAt, List<Long> ifMatch)
            implements CredentialCommand {
        /** Unconditional. */
        public GenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                           Integer slot, String keyId, String secretHash, Instant expiresAt) {
            this(commandId, credentialId, accountId, deadline, slot, keyId, secretHash, expiresAt, null);
        }

        @Override
        public String toString() {
            return "GenerateKey[commandId=" + commandId + ", credentialId=" + credentialId + ", slot=" + slot
                    + ", keyId=" + keyId + "]";
        }
    }

    /** {@code expiresAt} null: keep the previous key's expiration if it is still ahead. */
    record RegenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                         int slot, String keyId, String secretHash, Instant expiresAt, List<Long> ifMatch)
            implements CredentialCommand {
        /** Unconditional. */
        public RegenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                             int slot, String keyId, String secretHash, Instant expiresAt) {
            this(commandId, credentialId, accountId, deadline, slot, keyId, secretHash, expiresAt, null);
        }

        @Override
        public String toString() {
            return "RegenerateKey[commandId=" + commandId + ", credentialId=" + credentialId + ", slot=" + slot
                    + ", keyId=" + keyId + "]";
        }
    }

    record InvalidateKey(String commandId, String credentialId, String accountId, Instant deadline, int slot,
                         List<Long> ifMatch)
            implements CredentialCommand {
        /** Unconditional. */
        public InvalidateKey(String commandId, String credentialId, String accountId, Instant deadline, int slot) {
            this(commandId, credentialId, accountId, deadline, slot, null);
        }
    }
}
