package io.keymeter.credentials.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialTest {

    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    @Test
    void aCreatedCredentialKeepsItsPrivilegesItemsAndReferrers() {
        Credential created = Credential.apply(null, new CredentialEvent.CredentialCreated("cred-1", "cred", "acme", 1,
                T0, "n", List.of("premium:user:basemaps"), List.of("item-1"), List.of("https://example.com")));

        assertThat(created.privileges()).containsExactly("premium:user:basemaps");
        assertThat(created.itemAccess()).containsExactly("item-1");
        assertThat(created.referrers()).containsExactly("https://example.com");
    }

    @Test
    void withoutSecretsDropsEveryHashAndKeepsTheRest() {
        Credential.Key key = new Credential.Key(1, "key1", "hash1", KeyStatus.ACTIVE, T0.plusSeconds(60), T0, null,
                null, false);
        Credential credential = new Credential("cred", "acme", "n", List.of("premium:user:basemaps"), List.of("i"),
                List.of("https://example.com"), List.of(key), T0, T0, 3);

        Credential read = credential.withoutSecrets();

        assertThat(read.keys()).extracting(Credential.Key::secretHash).containsOnlyNulls();
        assertThat(read.keys()).extracting(Credential.Key::keyId).containsExactly("key1");
        assertThat(read).usingRecursiveComparison().ignoringFields("keys").isEqualTo(credential);
    }

    /** A key regenerated into a slot replaces the slot's key and leaves the other slot's alone. */
    @Test
    void aKeyTakesItsSlotAndOnlyItsSlot() {
        Credential.Key one = new Credential.Key(1, "old1", null, KeyStatus.ACTIVE, T0.plusSeconds(60), T0, null, null,
                false);
        Credential.Key two = new Credential.Key(2, "key2", null, KeyStatus.ACTIVE, T0.plusSeconds(60), T0, null, null,
                false);
        Credential state = new Credential("cred", "acme", "n", List.of(), List.of(), List.of(), List.of(two, one), T0,
                T0, 3);

        Credential next = Credential.apply(state, new CredentialEvent.KeyRegenerated("cred-4", "cred", "acme", 4,
                T0.plusSeconds(1), 1, "new1", "old1", T0.plusSeconds(120)));

        assertThat(next.keys()).extracting(Credential.Key::keyId).containsExactly("new1", "key2");
    }

    @Test
    void aKeyPastItsExpirationReadsAsExpired() {
        Credential.Key key = new Credential.Key(1, "key1", null, KeyStatus.ACTIVE, T0, T0.minusSeconds(60), null, null,
                false);
        assertThat(key.statusAt(T0.minusMillis(1))).isEqualTo(KeyStatus.ACTIVE);
        assertThat(key.statusAt(T0)).isEqualTo(KeyStatus.EXPIRED);
        Credential.Key invalidated = new Credential.Key(1, "key1", null, KeyStatus.INVALIDATED, T0, T0, T0, "x", false);
        assertThat(invalidated.statusAt(T0.plusSeconds(1))).isEqualTo(KeyStatus.INVALIDATED);
    }
}
