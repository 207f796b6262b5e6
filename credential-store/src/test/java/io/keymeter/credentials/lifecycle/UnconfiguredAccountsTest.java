package io.keymeter.credentials.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UnconfiguredAccountsTest {

    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    /** One warning stays readable however many accounts were removed: 20 named, the rest counted. */
    @Test
    void atMostTwentyAccountsAreNamedAndTheRestCounted() {
        UnconfiguredAccounts tally = new UnconfiguredAccounts(Set.of("acme"), NOW);
        for (int i = 0; i < 25; i++) {
            tally.add(credential(String.format("gone-%02d", i), KeyStatus.ACTIVE));
        }
        tally.add(credential("acme", KeyStatus.ACTIVE));

        String warning = tally.warning(3).orElseThrow();

        assertThat(warning).startsWith("Partition 3 of the credential store holds active keys of accounts not in"
                + " keymeter.accounts: gone-00 (1 active key in 1 credential), gone-01")
                .contains("gone-19 (1 active key in 1 credential) and 5 more.").doesNotContain("gone-20")
                .doesNotContain("acme");
    }

    /** Accounts whose keys are all dead can do nothing: not named, and no warning for them alone. */
    @Test
    void accountsWithoutActiveKeysAreNotWarnedOf() {
        UnconfiguredAccounts tally = new UnconfiguredAccounts(Set.of(), NOW);
        tally.add(credential("gone", KeyStatus.INVALIDATED));
        assertThat(tally.warning(0)).isEmpty();
    }

    private static Credential credential(String account, KeyStatus status) {
        Credential.Key key = new Credential.Key(1, "k-" + account, null, status, NOW.plusSeconds(3600),
                NOW.minusSeconds(3600), null, null, false);
        return new Credential("c-" + account, account, "n", List.of("premium:user:basemaps"), List.of(), List.of(),
                List.of(key), NOW.minusSeconds(7200), NOW.minusSeconds(3600), 2);
    }
}
