package io.keymeter.credentials.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.credentials.lifecycle.CommandReply.Outcome;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialDeciderTest {

    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    private final CredentialDecider decider = new CredentialDecider(Duration.ofDays(7));

    @Test
    void aKeyPastItsExpirationIsExpiredBeforeTheCommandEvenIfNoCheckRanYet() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(1)));
        Instant later = T0.plus(Duration.ofDays(2));
        ApiKeys.GeneratedKey key = ApiKeys.generate();

        Decision decision = decider.decide(state, new CredentialCommand.GenerateKey("c2", "cred", "acme",
                later.plusSeconds(5), 1, key.keyId(), key.secretHash(), later.plus(Duration.ofDays(30))), later);

        assertThat(decision.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(decision.events()).extracting(CredentialEvent::getClass)
                .containsExactly(CredentialEvent.KeyExpired.class, CredentialEvent.KeyCreated.class);
        assertThat(decision.keyStates()).extracting(s -> s.status())
                .containsExactly(KeyStatus.EXPIRED, KeyStatus.ACTIVE);

        // a change conditional on the version read while the key showed expired, its expiry not stored (tag
        // "2-expired" names 2): decided on that version with the expiry first, as the read showed it (checked after
        // the expiry, such a change was refused until the punctuator caught up)
        ApiKeys.GeneratedKey next = ApiKeys.generate();
        Decision conditional = decider.decide(state, new CredentialCommand.RegenerateKey("c3", "cred", "acme",
                later.plusSeconds(5), 1, next.keyId(), next.secretHash(), later.plus(Duration.ofDays(30)),
                List.of(2L)), later);
        assertThat(conditional.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(conditional.events()).extracting(CredentialEvent::getClass)
                .containsExactly(CredentialEvent.KeyExpired.class, CredentialEvent.KeyRegenerated.class);
    }

    @Test
    void regenerateWithoutADateWhenThePreviousOneHasPassedIsInvalid() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(1)));
        Instant later = T0.plus(Duration.ofDays(2));

        Decision decision = decider.decide(state, new CredentialCommand.RegenerateKey("c2", "cred", "acme",
                later.plusSeconds(5), 1, ApiKeys.newKeyId(), "hash", null), later);

        assertThat(decision.reply().outcome()).isEqualTo(Outcome.INVALID);
        assertThat(decision.reply().field()).isEqualTo("expiresAt");
        assertThat(decision.changed()).isFalse();
    }

    /** A date kept from a key of an earlier version, finer than a millisecond, is cut as a date sent is. */
    @Test
    void regenerateWithoutADateCutsTheKeptOneToItsMillisecond() {
        Instant fine = T0.plus(Duration.ofDays(30)).plusNanos(123_456_789);
        Credential state = withKeyInSlot1(fine);
        ApiKeys.GeneratedKey key = ApiKeys.generate();

        Decision decision = decider.decide(state, new CredentialCommand.RegenerateKey("c2", "cred", "acme",
                T0.plusSeconds(5), 1, key.keyId(), key.secretHash(), null), T0);

        assertThat(decision.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(decision.keyStates()).filteredOn(s -> s.keyId().equals(key.keyId())).singleElement()
                .satisfies(s -> assertThat(s.expiresAt()).isEqualTo(T0.plus(Duration.ofDays(30)).plusMillis(123)));
    }

    @Test
    void expiryCheckOfAnUntouchedCredentialChangesNothing() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        assertThat(decider.checkExpiry(state, T0.plusSeconds(10)).changed()).isFalse();
    }

    @Test
    void theNextExpiryCheckIsDueExactlyWhenTheCheckWouldChangeTheCredential() {
        Instant expiresAt = T0.plus(Duration.ofDays(30));
        Credential state = withKeyInSlot1(expiresAt);
        Instant notice = expiresAt.minus(Duration.ofDays(7));

        assertThat(decider.nextExpiryCheck(state)).contains(notice);
        assertThat(decider.checkExpiry(state, notice.minusMillis(1)).changed()).isFalse();
        Decision announced = decider.checkExpiry(state, notice);
        assertThat(announced.events()).singleElement().isInstanceOf(CredentialEvent.KeyExpiring.class);

        assertThat(decider.nextExpiryCheck(announced.state())).contains(expiresAt);
        assertThat(decider.checkExpiry(announced.state(), expiresAt.minusMillis(1)).changed()).isFalse();
        Decision expired = decider.checkExpiry(announced.state(), expiresAt);
        assertThat(expired.events()).singleElement().isInstanceOf(CredentialEvent.KeyExpired.class);

        assertThat(decider.nextExpiryCheck(expired.state())).as("no active key, never due").isEmpty();
    }

    @Test
    void aChangeDecidedOnAClockBehindTheLastChangeIsStampedAfterIt() {
        Instant lastChange = T0.plusSeconds(40);
        Credential state = withKeyInSlot1At(lastChange, T0.plus(Duration.ofDays(30)));
        Instant behind = lastChange.minusSeconds(30);

        Decision decision = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme",
                behind.plusSeconds(5), 1), behind);

        Instant stamped = state.updatedAt().plusMillis(1);
        assertThat(decision.reply().outcome()).as("the deadline is judged by the clock").isEqualTo(Outcome.APPLIED);
        assertThat(decision.events()).extracting(CredentialEvent::at).containsExactly(stamped);
        assertThat(decision.keyStates()).singleElement().satisfies(s -> {
            assertThat(s.status()).isEqualTo(KeyStatus.INVALIDATED);
            assertThat(s.updatedAt()).isEqualTo(stamped);
        });
        assertThat(decision.state().updatedAt()).isEqualTo(stamped);
        assertThat(decision.state().key(1).orElseThrow().invalidatedAt()).isEqualTo(stamped);
    }

    @Test
    void anExpiryCheckOnAClockBehindTheLastChangeIsStampedAfterIt() {
        Instant expiresAt = T0.plus(Duration.ofDays(8));
        Instant lastChange = T0.plus(Duration.ofDays(1)).plusSeconds(10);
        Credential state = decider.decide(withKeyInSlot1(expiresAt), new CredentialCommand.ChangeReferrers("c2",
                "cred", "acme", lastChange.plusSeconds(5), List.of("https://*.example.com")), lastChange).state();

        Decision announced = decider.checkExpiry(state, lastChange.minusSeconds(5));

        assertThat(announced.events()).singleElement().isInstanceOf(CredentialEvent.KeyExpiring.class)
                .extracting(CredentialEvent::at).isEqualTo(lastChange.plusMillis(1));
    }

    /**
     * A writer whose clock ran 40 minutes ahead created the credential; this clock's instance then added a key
     * valid for 10 more minutes. The stamps stay after the last change, but whether a key is active is this clock's:
     * judged by the bumped time, the key was expired by the next command, refused invalidation as "not active", and
     * its slot was taken as free.
     */
    @Test
    void afterAWriterWhoseClockRanAheadKeysAreStillJudgedByTheClock() {
        Instant aheadWriter = T0.plus(Duration.ofMinutes(40));
        Credential created = decider.decide(null, new CredentialCommand.CreateCredential("c0", "cred", "acme",
                aheadWriter.plusSeconds(5), "n", List.of("premium:user:basemaps"), List.of(), List.of()),
                aheadWriter).state();
        Instant clock = T0.plusSeconds(60);
        ApiKeys.GeneratedKey first = ApiKeys.generate();
        Credential state = decider.decide(created, new CredentialCommand.GenerateKey("c1", "cred", "acme",
                clock.plusSeconds(5), 1, first.keyId(), first.secretHash(), T0.plus(Duration.ofMinutes(10))),
                clock).state();
        assertThat(state.updatedAt()).isEqualTo(aheadWriter.plusMillis(1));

        Decision referrers = decider.decide(state, new CredentialCommand.ChangeReferrers("c3", "cred", "acme",
                clock.plusSeconds(5), List.of()), clock);
        assertThat(referrers.events()).extracting(CredentialEvent::getClass)
                .containsExactly(CredentialEvent.ReferrersChanged.class);
        assertThat(referrers.keyStates()).singleElement().extracting(s -> s.status()).isEqualTo(KeyStatus.ACTIVE);
        assertThat(decider.checkExpiry(state, clock).events()).as("within its notice, not past its expiration")
                .singleElement().isInstanceOf(CredentialEvent.KeyExpiring.class);

        Decision invalidated = decider.decide(state, new CredentialCommand.InvalidateKey("c3", "cred", "acme",
                clock.plusSeconds(5), 1), clock);
        assertThat(invalidated.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(invalidated.events()).singleElement().isInstanceOf(CredentialEvent.KeyInvalidated.class)
                .extracting(CredentialEvent::at).isEqualTo(aheadWriter.plusMillis(2));

        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Decision generated = decider.decide(state, new CredentialCommand.GenerateKey("c3", "cred", "acme",
                clock.plusSeconds(5), null, key.keyId(), key.secretHash(), clock.plus(Duration.ofDays(30))), clock);
        assertThat(generated.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(generated.state().keyById(key.keyId()).orElseThrow().slot()).as("slot 1 holds an active key")
                .isEqualTo(2);

        // a regeneration keeping that date would be stamped after it, never usable: refused as before
        Decision regenerated = decider.decide(state, new CredentialCommand.RegenerateKey("c3", "cred", "acme",
                clock.plusSeconds(5), 1, ApiKeys.newKeyId(), "hash", null), clock);
        assertThat(regenerated.reply().outcome()).isEqualTo(Outcome.INVALID);

        // and once the clock passes the expiration, the key expires as before
        Decision expired = decider.checkExpiry(state, T0.plus(Duration.ofMinutes(10)));
        assertThat(expired.events()).singleElement().isInstanceOf(CredentialEvent.KeyExpired.class);
    }

    @Test
    void onAClockAheadOfTheLastChangeTheClocksTimeIsTheStamp() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        Instant later = T0.plusSeconds(60);

        Decision decision = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme",
                later.plusSeconds(5), 1), later);

        assertThat(decision.keyStates()).singleElement().extracting(s -> s.updatedAt()).isEqualTo(later);
    }

    private Credential withKeyInSlot1(Instant expiresAt) {
        return withKeyInSlot1At(T0, expiresAt);
    }

    private Credential withKeyInSlot1At(Instant at, Instant expiresAt) {
        Decision created = decider.decide(null, new CredentialCommand.CreateCredential("c0", "cred", "acme",
                at.plusSeconds(5), "n", List.of("premium:user:basemaps"), List.of(), List.of()), at);
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        return decider.decide(created.state(), new CredentialCommand.GenerateKey("c1", "cred", "acme",
                at.plusSeconds(5), 1, key.keyId(), key.secretHash(), expiresAt), at.plusMillis(1)).state();
    }

    @Test
    void aCommandThatArrivesAfterItsDeadlineIsRefusedAndChangesNothing() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        Instant later = T0.plusSeconds(60);

        Decision decision = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme",
                later.minusSeconds(1), 1), later);

        assertThat(decision.reply().outcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(decision.events()).isEmpty();
        assertThat(decision.keyStates()).isEmpty();
        assertThat(decision.state()).isSameAs(state);
    }

    /** The old key of a slot must stop working: its invalidation is published before the new key. */
    @Test
    void regeneratingAnActiveKeyInvalidatesThePreviousOneAndTakesItsSlot() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        String previous = state.key(1).orElseThrow().keyId();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant later = T0.plusSeconds(60);

        Decision decision = decider.decide(state, new CredentialCommand.RegenerateKey("c2", "cred", "acme",
                later.plusSeconds(5), 1, key.keyId(), key.secretHash(), null), later);

        assertThat(decision.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(decision.events()).extracting(CredentialEvent::getClass)
                .containsExactly(CredentialEvent.KeyInvalidated.class, CredentialEvent.KeyRegenerated.class);
        CredentialEvent.KeyInvalidated invalidated = (CredentialEvent.KeyInvalidated) decision.events().get(0);
        assertThat(invalidated.keyId()).isEqualTo(previous);
        assertThat(invalidated.reason()).isEqualTo(CredentialDecider.REASON_REGENERATED);
        assertThat(decision.keyStates()).extracting(s -> s.keyId() + ":" + s.status())
                .containsExactly(previous + ":" + KeyStatus.INVALIDATED, key.keyId() + ":" + KeyStatus.ACTIVE);
        assertThat(decision.state().keys()).extracting(Credential.Key::keyId).containsExactly(key.keyId());
    }

    /** A slot whose key was already invalidated is taken without a second invalidation. */
    @Test
    void regeneratingAnInactiveKeyInvalidatesNothing() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        state = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme", T0.plusSeconds(30), 1),
                T0.plusSeconds(10)).state();
        ApiKeys.GeneratedKey key = ApiKeys.generate();

        Decision decision = decider.decide(state, new CredentialCommand.RegenerateKey("c3", "cred", "acme",
                T0.plusSeconds(80), 1, key.keyId(), key.secretHash(), null), T0.plusSeconds(60));

        assertThat(decision.events()).extracting(CredentialEvent::getClass)
                .containsExactly(CredentialEvent.KeyRegenerated.class);
    }

    /** Versions count the credential's events from 1, and event ids are made of them (a redelivery repeats them). */
    @Test
    void eventsAreNumberedOnFromTheCredentialsVersion() {
        Decision created = decider.decide(null, new CredentialCommand.CreateCredential("c0", "cred", "acme",
                T0.plusSeconds(5), "n", List.of("premium:user:basemaps"), List.of(), List.of()), T0);
        assertThat(created.events()).extracting(CredentialEvent::version).containsExactly(1L);
        assertThat(created.events()).extracting(CredentialEvent::eventId).containsExactly("cred-1");
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        ApiKeys.GeneratedKey key = ApiKeys.generate();

        Decision regenerated = decider.decide(state, new CredentialCommand.RegenerateKey("c2", "cred", "acme",
                T0.plusSeconds(65), 1, key.keyId(), key.secretHash(), null), T0.plusSeconds(60));

        assertThat(regenerated.events()).extracting(CredentialEvent::version).containsExactly(3L, 4L);
        assertThat(regenerated.events()).extracting(CredentialEvent::eventId).containsExactly("cred-3", "cred-4");
        assertThat(regenerated.state().version()).isEqualTo(4L);
    }

    /** New referrers reach the enforcers through the states of the active keys, and only theirs. */
    @Test
    void changingReferrersRepublishesTheActiveKeysOnly() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        String invalidatedKey = state.key(1).orElseThrow().keyId();
        state = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme", T0.plusSeconds(30), 1),
                T0.plusSeconds(10)).state();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        state = decider.decide(state, new CredentialCommand.GenerateKey("c3", "cred", "acme", T0.plusSeconds(30), 2,
                key.keyId(), key.secretHash(), T0.plus(Duration.ofDays(30))), T0.plusSeconds(20)).state();

        Decision decision = decider.decide(state, new CredentialCommand.ChangeReferrers("c4", "cred", "acme",
                T0.plusSeconds(60), List.of("https://example.com")), T0.plusSeconds(40));

        assertThat(decision.keyStates()).extracting(s -> s.keyId()).containsExactly(key.keyId())
                .doesNotContain(invalidatedKey);
        assertThat(decision.keyStates().get(0).referrers()).containsExactly("https://example.com");
    }

    /**
     * If-Match: a change is applied only while the credential is at a version it names, decided by its single writer
     * so nothing can land between the check and the change. An invalidation made over a read from before the slot's
     * key was generated must not kill that key.
     */
    @Test
    void aConditionalChangeIsAppliedOnlyAtAVersionItNames() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        assertThat(state.version()).isEqualTo(2L);
        Instant now = T0.plusSeconds(10);

        Decision stale = decider.decide(state, new CredentialCommand.InvalidateKey("c2", "cred", "acme",
                now.plusSeconds(5), 1, List.of(1L)), now);
        assertThat(stale.reply().outcome()).isEqualTo(Outcome.PRECONDITION_FAILED);
        assertThat(stale.reply().message()).contains("version 2", "ETag \"2\"");
        assertThat(stale.changed()).isFalse();
        assertThat(stale.keyStates()).isEmpty();
        assertThat(stale.state()).isSameAs(state);
        assertThat(decider.decide(state, new CredentialCommand.InvalidateKey("c3", "cred", "acme",
                now.plusSeconds(5), 1, List.of()), now).reply().outcome()).isEqualTo(Outcome.PRECONDITION_FAILED);

        Decision current = decider.decide(state, new CredentialCommand.InvalidateKey("c4", "cred", "acme",
                now.plusSeconds(5), 1, List.of(1L, 2L)), now);
        assertThat(current.reply().outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(current.state().version()).isEqualTo(3L);
        assertThat(current.keyStates()).extracting(s -> s.status()).containsExactly(KeyStatus.INVALIDATED);
    }

    /** A condition never tells another account (or anyone) that a credential exists: 404 before 412. */
    @Test
    void aConditionalChangeOfAnotherAccountsCredentialIsNotFound() {
        Credential state = withKeyInSlot1(T0.plus(Duration.ofDays(30)));
        Decision decision = decider.decide(state, new CredentialCommand.ChangeReferrers("c2", "cred", "globex",
                T0.plusSeconds(30), List.of(), List.of(1L)), T0.plusSeconds(10));
        assertThat(decision.reply().outcome()).isEqualTo(Outcome.NOT_FOUND);
        assertThat(decider.decide(null, new CredentialCommand.DeleteCredential("c3", "cred", "acme",
                T0.plusSeconds(30), List.of(1L)), T0.plusSeconds(10)).reply().outcome()).isEqualTo(Outcome.NOT_FOUND);
    }
}
