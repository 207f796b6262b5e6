package io.keymeter.credentials.lifecycle;

import java.time.Clock;
import java.util.Set;

/**
 * The accounts that have a token here, and the clock that says which keys are active now: what a credential-store
 * task checks its stored credentials against at its start ({@link UnconfiguredAccounts}). Kafka Streams' own time is
 * not set yet when a task initializes (it reads 0, 1970, and every key stored active looked active).
 */
public record ConfiguredAccounts(Set<String> ids, Clock clock) {

    public ConfiguredAccounts {
        ids = Set.copyOf(ids);
    }
}
