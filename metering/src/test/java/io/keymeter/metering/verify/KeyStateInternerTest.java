package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KeyStateInternerTest {

    private final KeyStateInterner interner = new KeyStateInterner();

    @Test
    void keysWithEqualPrivilegesAndAccountShareOneCopyAndStayEqualToWhatArrived() {
        ApiKeyState first = state("k1", new String("acme"), List.of(new String("premium:user:basemaps"), new String("premium:user:geocode")));
        ApiKeyState second = state("k2", new String("acme"), List.of(new String("premium:user:basemaps"), new String("premium:user:geocode")));

        ApiKeyState a = interner.intern(first);
        ApiKeyState b = interner.intern(second);

        assertThat(a).isEqualTo(first);
        assertThat(b).isEqualTo(second);
        assertThat(b.privileges()).isSameAs(a.privileges());
        assertThat(b.accountId()).isSameAs(a.accountId());
    }

    @Test
    void differentPrivilegeListsStayApartButShareTheirNames() {
        ApiKeyState a = interner.intern(state("k1", "acme", List.of("premium:user:basemaps")));
        ApiKeyState b = interner.intern(state("k2", "acme", List.of(new String("premium:user:basemaps"), "premium:user:routing")));

        assertThat(b.privileges()).isNotSameAs(a.privileges()).hasSize(2);
        assertThat(b.privileges().get(0)).isSameAs(a.privileges().get(0));
    }

    @Test
    void pastTheCapAValueIsKeptAsItCame() {
        for (int i = 0; i < KeyStateInterner.MAX_ENTRIES + 10; i++) {
            interner.intern(state("k" + i, "account-" + i, List.of("p-" + i)));
        }
        List<String> late = new ArrayList<>(List.of("p-late"));
        ApiKeyState kept = interner.intern(state("late", "account-late", late));

        assertThat(kept.privileges()).containsExactly("p-late");
        assertThat(kept.accountId()).isEqualTo("account-late");
        assertThat(interner.held()).as("strings and lists held").isLessThanOrEqualTo(2 * KeyStateInterner.MAX_ENTRIES);
    }

    /** A credential's two keys held a copy of its item access each: some 120 KB a key at 1,000 ids. */
    @Test
    void aCredentialsKeysShareOneItemAccessAndReferrerList() {
        List<String> items = IntStream.range(0, 1_000).mapToObj(i -> "item-" + i).toList();
        List<String> referrers = List.of("https://*.example.com");
        ApiKeyState slot1 = new ApiKeyState("k1", "cred-1", "acme", 1, KeyStatus.ACTIVE, Instant.parse("2027-01-01T00:00:00Z"),
                "ab".repeat(32), List.of("premium:user:basemaps"), new ArrayList<>(items), new ArrayList<>(referrers),
                Instant.parse("2026-11-30T00:00:00Z"));
        ApiKeyState slot2 = new ApiKeyState("k2", "cred-1", "acme", 2, KeyStatus.ACTIVE, Instant.parse("2027-01-01T00:00:00Z"),
                "cd".repeat(32), List.of("premium:user:basemaps"), new ArrayList<>(items), new ArrayList<>(referrers),
                Instant.parse("2026-11-30T00:00:00Z"));
        assertThat(slot2.itemAccess()).isNotSameAs(slot1.itemAccess());

        ApiKeyState a = interner.intern(slot1);
        ApiKeyState b = interner.intern(slot2);

        assertThat(b.itemAccess()).isSameAs(a.itemAccess()).isEqualTo(items);
        assertThat(b.referrers()).isSameAs(a.referrers()).isEqualTo(referrers);
        assertThat(a).isEqualTo(slot1);
        assertThat(b).isEqualTo(slot2);
    }

    private static ApiKeyState state(String keyId, String accountId, List<String> privileges) {
        return new ApiKeyState(keyId, "cred-1", accountId, 1, KeyStatus.ACTIVE, Instant.parse("2027-01-01T00:00:00Z"),
                "ab".repeat(32), privileges, List.of(), List.of(), Instant.parse("2026-11-30T00:00:00Z"));
    }
}
