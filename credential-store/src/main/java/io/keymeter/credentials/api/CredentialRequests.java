package io.keymeter.credentials.api;

import java.time.Instant;
import java.util.List;

/** The bodies the credential endpoints accept. Unknown fields are refused by the HTTP mapper. */
final class CredentialRequests {

    private CredentialRequests() {
    }

    record CreateCredential(String name, List<String> privileges, List<String> itemAccess, List<String> referrers) {
    }

    record Privileges(List<String> privileges) {
    }

    record ItemAccess(List<String> itemAccess) {
    }

    record Referrers(List<String> referrers) {
    }

    record GenerateKey(Integer slot, Instant expiresAt) {
    }

    record RegenerateKey(Instant expiresAt) {
    }

    /**
     * The body of a call that takes none (invalidate, delete): absent or {@code {}}. Read all the same, so that a field
     * a client thinks it chose ({@code {"slot":2}} to invalidate slot 1) is refused like any unknown field, not ignored.
     */
    record NoFields() {
    }
}
