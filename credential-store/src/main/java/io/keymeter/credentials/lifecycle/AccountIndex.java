package io.keymeter.credentials.lifecycle;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Which credentials an account has: {@code <accountId>/<credentialId>} → credentialId, so listing an account's
 * credentials reads that account's entries instead of every credential of every account (the credentials store is
 * keyed by credentialId, as its commands are). Derived data, like {@link ExpiryIndex}: not changelogged, rebuilt
 * from the credentials store whenever the task starts ({@link CredentialCommandHandler}).
 */
public final class AccountIndex {

    private final KeyValueStore<String, String> index;

    AccountIndex(KeyValueStore<String, String> index) {
        this.index = index;
    }

    /**
     * The start of every key of this account's entries. An account id that itself contains {@code /} shares a
     * prefix with longer ones: readers check the account of what they read.
     */
    private static String prefix(String accountId) {
        return accountId + "/";
    }

    /**
     * The account's credentials among those of {@code credentials}, found through {@code index}'s entries of the
     * account (a prefix scan), in index order, with their secret hashes.
     */
    public static List<Credential> credentialsOf(String accountId, ReadOnlyKeyValueStore<String, String> index,
                                                 ReadOnlyKeyValueStore<String, Credential> credentials) {
        List<Credential> out = new ArrayList<>();
        try (KeyValueIterator<String, String> ids = index.prefixScan(prefix(accountId), Serdes.String().serializer())) {
            ids.forEachRemaining(entry -> {
                Credential credential = credentials.get(entry.value);
                if (credential != null && credential.accountId().equals(accountId)) {
                    out.add(credential);
                }
            });
        }
        return out;
    }

    /** Adds a created credential, removes a deleted one (null state: none); a credential never changes account. */
    void update(String credentialId, Credential before, Credential after) {
        if (before == null && after != null) {
            index.put(prefix(after.accountId()) + credentialId, credentialId);
        } else if (before != null && after == null) {
            index.delete(prefix(before.accountId()) + credentialId);
        }
    }
}
