package io.keymeter.credentials.api;

import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

/**
 * Reads credentials from the {@code credentials} store of this instance (interactive queries over every partition
 * this instance hosts). Secret hashes never leave here. A store that is not queryable yet (starting, rebalancing)
 * answers 503 with Retry-After.
 */
@Component
class CredentialReads {

    private final StreamsApp streams;

    CredentialReads(@Qualifier(CredentialStoreConfiguration.STREAMS) StreamsApp streams) {
        this.streams = streams;
    }

    /** The account's credential, or empty when missing or another account's (indistinguishable on purpose). */
    Optional<Credential> find(String accountId, String credentialId) {
        try {
            return Optional.ofNullable(store().get(credentialId))
                    .filter(c -> c.accountId().equals(accountId))
                    .map(Credential::withoutSecrets);
        } catch (InvalidStateStoreException e) {
            throw notReady();
        }
    }

    List<Credential> list(String accountId) {
        List<Credential> out = new ArrayList<>();
        try (KeyValueIterator<String, Credential> all = store().all()) {
            all.forEachRemaining(kv -> {
                if (kv.value != null && kv.value.accountId().equals(accountId)) {
                    out.add(kv.value.withoutSecrets());
                }
            });
        } catch (InvalidStateStoreException e) {
            throw notReady();
        }
        out.sort(Comparator.comparing(Credential::createdAt).thenComparing(Credential::id));
        return out;
    }

    private ReadOnlyKeyValueStore<String, Credential> store() {
        try {
            if (streams.state() != KafkaStreams.State.RUNNING) {
                throw notReady();
            }
            return streams.store(StoreQueryParameters.fromNameAndType(CredentialTopology.STORE,
                    QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException | IllegalStateException e) {
            throw notReady();
        }
    }

    private static ApiProblem notReady() {
        return ApiProblem.unavailable("The credential store is not ready yet.", Duration.ofSeconds(1));
    }
}
