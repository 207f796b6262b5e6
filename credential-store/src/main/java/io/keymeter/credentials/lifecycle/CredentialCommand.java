package io.keymeter.credentials.lifecycle;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.List;

/**
 * A change asked of one credential, on {@code keymeter.credential-commands} keyed by credentialId, so one stream
 * task is the single writer of each credential. {@code deadline}: a command still unprocessed after it is refused
 * unapplied (the HTTP caller has given up on it by then). Commands never carry a plaintext key: only its keyId and
 * the SHA-256 of its secret.
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

    record CreateCredential(String commandId, String credentialId, String accountId, Instant deadline,
                            String name, List<String> privileges, List<String> itemAccess, List<String> referrers)
            implements CredentialCommand {
    }

    record ChangePrivileges(String commandId, String credentialId, String accountId, Instant deadline,
                            List<String> privileges) implements CredentialCommand {
    }

    record ChangeItemAccess(String commandId, String credentialId, String accountId, Instant deadline,
                            List<String> itemAccess) implements CredentialCommand {
    }

    record ChangeReferrers(String commandId, String credentialId, String accountId, Instant deadline,
                           List<String> referrers) implements CredentialCommand {
    }

    record DeleteCredential(String commandId, String credentialId, String accountId, Instant deadline)
            implements CredentialCommand {
    }

    /** {@code slot} null: the first slot without an active key. */
    record GenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                       Integer slot, String keyId, String secretHash, Instant expiresAt) implements CredentialCommand {
        @Override
        public String toString() {
            return "GenerateKey[commandId=" + commandId + ", credentialId=" + credentialId + ", slot=" + slot
                    + ", keyId=" + keyId + "]";
        }
    }

    /** {@code expiresAt} null: keep the previous key's expiration if it is still ahead. */
    record RegenerateKey(String commandId, String credentialId, String accountId, Instant deadline,
                         int slot, String keyId, String secretHash, Instant expiresAt) implements CredentialCommand {
        @Override
        public String toString() {
            return "RegenerateKey[commandId=" + commandId + ", credentialId=" + credentialId + ", slot=" + slot
                    + ", keyId=" + keyId + "]";
        }
    }

    record InvalidateKey(String commandId, String credentialId, String accountId, Instant deadline, int slot)
            implements CredentialCommand {
    }
}
