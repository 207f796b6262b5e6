package io.keymeter.credentials.lifecycle;

import java.time.Instant;
import java.util.List;
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

    /** Accounts named in one warning at most; the rest counted. */
    static final int NAMED = 20;

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

    /**
     * What to tell the operator about {@code partition}: the accounts not configured that hold active keys (those of
     * dead keys only can do nothing), at most {@link #NAMED} of them by name; empty when there are none.
     */
    Optional<String> warning(int partition) {
        List<Map.Entry<String, Tally>> live = found.entrySet().stream().filter(e -> e.getValue().activeKeys > 0)
                .toList();
        if (live.isEmpty()) {
            return Optional.empty();
        }
        String accounts = live.stream().limit(NAMED)
                .map(e -> e.getKey() + " (" + count(e.getValue().activeKeys, "active key") + " in "
                        + count(e.getValue().credentials, "credential") + ")")
                .collect(Collectors.joining(", "))
                + (live.size() > NAMED ? " and " + (live.size() - NAMED) + " more" : "");
        return Optional.of("Partition " + partition + " of the credential store holds active keys of accounts not"
                + " in keymeter.accounts: " + accounts + ". They still pass /v1/verify and are metered and billed,"
                + " and no token can list, change or revoke them. Configure each such account again"
                + " (keymeter.accounts[N].id and a token) to manage them, and invalidate or delete what must stop.");
    }

    private static String count(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }
}
