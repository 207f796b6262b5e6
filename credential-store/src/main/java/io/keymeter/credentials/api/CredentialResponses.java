package io.keymeter.credentials.api;

import io.keymeter.events.ApiKeys;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.List;

/** What the credential endpoints answer (CONTRACT §3). A credential never shows a secret or a hash of one. */
final class CredentialResponses {

    private CredentialResponses() {
    }

    record CredentialView(String id, String name, List<String> privileges, List<String> itemAccess,
                          List<String> referrers, List<KeyView> keys, Instant createdAt, Instant updatedAt) {

        /** As Spring's web layer logs an answer at DEBUG: a key the client put in a name, item or referrer masked. */
        @Override
        public String toString() {
            return ApiKeys.redact("CredentialView[id=" + id + ", name=" + name + ", privileges=" + privileges
                    + ", itemAccess=" + itemAccess + ", referrers=" + referrers + ", keys=" + keys + ", createdAt="
                    + createdAt + ", updatedAt=" + updatedAt + "]");
        }

        /** Key statuses as of {@code now}: a key past its expiration reads expired even before that is published. */
        static CredentialView of(Credential c, Instant now) {
            return new CredentialView(c.id(), c.name(), c.privileges(), c.itemAccess(), c.referrers(),
                    c.keys().stream().map(k -> new KeyView(k.slot(), k.keyId(), k.statusAt(now), k.expiresAt(),
                            k.createdAt(), k.invalidatedAt(), k.invalidationReason())).toList(),
                    c.createdAt(), c.updatedAt());
        }
    }

    /** Every field of the contract's key, {@code null} included: an active key has no invalidation yet. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record KeyView(int slot, String keyId, KeyStatus status, Instant expiresAt, Instant createdAt,
                   Instant invalidatedAt, String invalidationReason) {
    }

    /** {@code next}: a cursor for the page after this one, only when a {@code limit} left some out. */
    record CredentialList(List<CredentialView> credentials, String next) {
    }

    /** The one answer that carries a plaintext key. */
    record IssuedKey(int slot, String keyId, String apiKey, Instant expiresAt, Instant createdAt) {
        @Override
        public String toString() {
            return "IssuedKey[slot=" + slot + ", keyId=" + keyId + "]";
        }
    }
}
