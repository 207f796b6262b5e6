package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.UsageDaily;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;

class InputMappersTest {

    private final Instant at = Instant.parse("2026-11-02T10:00:00Z");

    @Test
    void usageIsKeyedByItsAccount() {
        UsageDaily day = new UsageDaily("acme", "c1", "routing", LocalDate.parse("2026-11-02"), 3, 4);
        KeyValue<String, BillingInput> mapped = InputMappers.usage(day.key(), day);
        assertThat(mapped.key).isEqualTo("acme");
        assertThat(mapped.value).isEqualTo(new BillingInput.Usage(day));
    }

    @Test
    void aTombstoneBecomesZeroTotalsReadFromTheKey() {
        KeyValue<String, BillingInput> mapped = InputMappers.usage("acme/c1/routing/2026-11-02", null);
        assertThat(mapped.value).isEqualTo(new BillingInput.Usage(
                new UsageDaily("acme", "c1", "routing", LocalDate.parse("2026-11-02"), 0, 0)));
    }

    @Test
    void unattributableUsageFailsSoItReachesTheDeadLetters() {
        assertThatThrownBy(() -> InputMappers.usage("garbage", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.usage("k", new UsageDaily(null, "c1", "routing",
                LocalDate.parse("2026-11-02"), 1, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.usage("k", new UsageDaily("acme", "c1", "routing",
                LocalDate.parse("2026-11-02"), -1, 1))).isInstanceOf(IllegalArgumentException.class);
    }

    /** Kept, a day before 1970 had a pending entry no cycle could be read from, and every settlement after it failed. */
    @Test
    void usageOutsideTheCyclesThereAreFailsSoItReachesTheDeadLetters() {
        assertThatThrownBy(() -> InputMappers.usage("k", new UsageDaily("acme", "c1", "routing",
                LocalDate.parse("1969-12-31"), 1, 1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1969-12-31");
        assertThat(InputMappers.usage("k", new UsageDaily("acme", "c1", "routing", LocalDate.parse("1970-01-01"), 1, 1)))
                .isNotNull();
    }

    @Test
    void onlyCreatedAndDeletedEventsCarryNames() {
        assertThat(InputMappers.credential("c1", new CredentialEvent.CredentialCreated("e", "c1", "acme", 1, at, "Web",
                List.of(), List.of(), List.of())))
                .containsExactly(KeyValue.pair("acme", new BillingInput.CredentialNamed("c1", "Web", at, false)));
        assertThat(InputMappers.credential("c1", new CredentialEvent.CredentialDeleted("e", "c1", "acme", 2, at)))
                .containsExactly(KeyValue.pair("acme", new BillingInput.CredentialNamed("c1", null, at, true)));
        assertThat(InputMappers.credential("c1", new CredentialEvent.ReferrersChanged("e", "c1", "acme", 3, at, List.of())))
                .isEmpty();
    }

    @Test
    void rejectionsWithoutACredentialAreNotAnAccountsToBill() {
        Rejection unknownKey = new Rejection("r", "k", null, null, "routing", "solve", 1, null, null, at,
                RejectionReason.UNKNOWN_KEY);
        Rejection expired = new Rejection("r", "k", "acme", "c1", "routing", "solve", 1, null, null, at,
                RejectionReason.EXPIRED);
        assertThat(InputMappers.attributable("k", unknownKey)).isFalse();
        assertThat(InputMappers.attributable("k", expired)).isTrue();
        assertThat(InputMappers.rejection("k", expired))
                .isEqualTo(KeyValue.pair("acme", new BillingInput.Rejected("c1", at, "expired")));
    }

    /** A rejection the earlier version put on the repartition has no reason: still read, counted under none. */
    @Test
    void aRejectionOnTheRepartitionWithoutItsReasonIsReadWithNone() {
        byte[] earlier = "{\"type\":\"rejected\",\"credentialId\":\"c1\",\"timestamp\":\"2026-11-02T10:00:00Z\"}"
                .getBytes(StandardCharsets.UTF_8);
        assertThat(BillingTopology.INPUT_SERDE.deserializer().deserialize("billing-by-account", earlier))
                .isEqualTo(new BillingInput.Rejected("c1", at, null));
    }

    /** Dropped unseen before; failing, they reach the dead letters. */
    @Test
    void aCredentialsRecordWithoutItsAccountFailsSoItReachesTheDeadLetters() {
        assertThatThrownBy(() -> InputMappers.attributable("k", new Rejection("r", "k", null, "c1", "routing", "solve",
                1, null, null, at, RejectionReason.EXPIRED))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.attributable("k", new Rejection("r", "k", "acme", "c1", "routing", "solve",
                1, null, null, null, RejectionReason.EXPIRED))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.attributable("k", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.credential("c1", new CredentialEvent.CredentialCreated("e", "c1", null, 1,
                at, "Web", List.of(), List.of(), List.of()))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InputMappers.credential("c1", new CredentialEvent.CredentialDeleted("e", "c1", null, 2,
                at))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSecurityAlertIsKeyedByItsAccountAndOneMissingAPartFailsSoItReachesTheDeadLetters() {
        SecurityAlert alert = new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 3, at, at);
        KeyValue<String, BillingInput> mapped = InputMappers.alert("c1", alert);
        assertThat(mapped.key).isEqualTo("acme");
        assertThat(mapped.value).isEqualTo(new BillingInput.Alerted(alert));

        assertThatThrownBy(() -> InputMappers.alert("c1", null)).isInstanceOf(IllegalArgumentException.class);
        for (SecurityAlert broken : List.of(
                new SecurityAlert("invalid-key-in-use", null, "c1", "key1", "expired", 3, at, at),
                new SecurityAlert("invalid-key-in-use", "acme", null, "key1", "expired", 3, at, at),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", null, "expired", 3, at, at),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", null, 3, at, at),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 0, at, at),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 3, null, at),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 3, at, null),
                new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 3, at,
                        Instant.parse("+10000-01-01T00:00:00Z")))) {
            assertThatThrownBy(() -> InputMappers.alert("c1", broken)).as("%s", broken)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void usageKeysSplitEvenWhenACredentialIdHoldsASlash() {
        StoreKeys.UsageKey key = StoreKeys.UsageKey.parse(StoreKeys.usage("acme", "c/1", "routing", LocalDate.parse("2026-11-02")));
        assertThat(key).isEqualTo(new StoreKeys.UsageKey("acme", "2026-11", "c/1", "routing", LocalDate.parse("2026-11-02")));
    }

    /** The first use of a dead key is an alert of count 1: billing must list it. */
    @Test
    void aSecurityAlertOfOneUseIsTaken() {
        SecurityAlert first = new SecurityAlert("invalid-key-in-use", "acme", "c1", "key1", "expired", 1, at, at);

        assertThat(InputMappers.alert("c1", first).value).isEqualTo(new BillingInput.Alerted(first));
    }

    /** A tombstone key needs all four parts: one without its credential fails as unattributable, not out of bounds. */
    @Test
    void aTombstoneKeyWithoutItsCredentialFailsSoItReachesTheDeadLetters() {
        assertThatThrownBy(() -> InputMappers.usage("acme/routing/2026-11-02", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("usage-daily key is not accountId/credentialId/service/date");
    }
}
