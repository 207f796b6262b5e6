package io.keymeter.credentials.api;

import io.keymeter.events.ApiKeys;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** The bodies the credential endpoints accept. Unknown fields are refused by the HTTP mapper. */
final class CredentialRequests {

    private CredentialRequests() {
    }

    // each toString as Spring's web layer logs a body at DEBUG: an API key pasted into a name, an item or a referrer
    // masked (what is stored is the client's to see; the log is not)

    record CreateCredential(String name, List<String> privileges, List<String> itemAccess, List<String> referrers) {
        @Override
        public String toString() {
            return ApiKeys.redact("CreateCredential[name=" + name + ", privileges=" + privileges + ", itemAccess="
                    + itemAccess + ", referrers=" + referrers + "]");
        }
    }

    record Privileges(List<String> privileges) {
        @Override
        public String toString() {
            return ApiKeys.redact("Privileges[privileges=" + privileges + "]");
        }
    }

    record ItemAccess(List<String> itemAccess) {
        @Override
        public String toString() {
            return ApiKeys.redact("ItemAccess[itemAccess=" + itemAccess + "]");
        }
    }

    record Referrers(List<String> referrers) {
        @Override
        public String toString() {
            return ApiKeys.redact("Referrers[referrers=" + referrers + "]");
        }
    }

    record GenerateKey(Integer slot, Instant expiresAt) {
        GenerateKey {
            expiresAt = toMillis(expiresAt);
        }
    }

    record RegenerateKey(Instant expiresAt) {
        RegenerateKey {
            expiresAt = toMillis(expiresAt);
        }
    }

    /**
     * A key expires on a millisecond, never later than asked: request timestamps and Kafka's record times are whole
     * milliseconds, so a finer expiration let a gateway that stamps milliseconds be billed for a call in the very
     * millisecond verify had already called the key {@code expired}.
     */
    private static Instant toMillis(Instant expiresAt) {
        return expiresAt == null ? null : expiresAt.truncatedTo(ChronoUnit.MILLIS);
    }

    /**
     * The body of a call that takes none (invalidate, delete): absent or {@code {}}. Read all the same, so that a field
     * a client thinks it chose ({@code {"slot":2}} to invalidate slot 1) is refused like any unknown field, not ignored.
     */
    record NoFields() {
    }
}
