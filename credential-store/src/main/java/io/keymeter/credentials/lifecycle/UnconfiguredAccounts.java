package io.keymeter.credentials.lifecycle;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The stored credentials of accounts that are not configured, tallied as a task's credentials are scanned at its
 * start. Such an account's keys stay active (verify passes them, metering bills them) while no token can list,
 * change or revoke them: an account removed from {@code keymeter.accounts}, or the embedded default's {@code demo}
 * after accounts were configured. Said once per task start, never silently kept.
 */
final class UnconfiguredAccounts {

    /** Credentials and keys active now of one account. */
    private record Tally(int credentials, int activeKeys) {
    }

    private final Set<String> configured;
    private final Instant now;
    private final Map<String, Tally> found = new TreeMap<>();

    /** @param configured the configured account ids; null: not known here, nothing is tallied */
    UnconfiguredAccounts(Set<String> configured, Instant now) {
        this.configured = configured;
        this.now = now;
    }

    void add(Credential credential) {
        if (configured == null || configured.contains(credential.accountId())) {
            return;
        }
        int active = (int) credential.keys().stream().filter(k -> k.isActiveAt(now)).count();
        found.merge(credential.accountId(), new Tally(1, active),
                (a, b) -> new Tally(a.credentials + b.credentials, a.activeKeys + b.activeKeys));
    }

    /** What to tell the operator about {@code partition}, or empty when every credential's account is configured. */
    Optional<String> warning(int partition) {
        if (found.isEmpty()) {
            return Optional.empty();
        }
        String accounts = found.entrySet().stream()
                .map(e -> e.getKey() + " (" + e.getValue().credentials + " credentials, " + e.getValue().activeKeys
                        + " active keys)")
                .collect(Collectors.joining(", "));
        return Optional.of("Partition " + partition + " of the credential store holds credentials of accounts not"
                + " in keymeter.accounts: " + accounts + ". Their active keys still pass /v1/verify and are metered"
                + " and billed, and no token can list, change or revoke them. Configure each such account again"
                + " (keymeter.accounts[N].id and a token) to manage them, and invalidate or delete what must stop.");
    }
}
