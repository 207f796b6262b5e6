package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Json;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.Topics;
import io.keymeter.metering.KeyFixtures;
import io.keymeter.metering.KeyFixtures.TestKey;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class KeyValidatorTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private static final Instant EXPIRES = NOW.plusSeconds(3600);
    private final TestKey key = TestKey.create("acme", "cred-1", 1);

    private Optional<RejectionReason> check(ApiKeyState state, String service, String itemId, String referrer, Instant at) {
        return KeyValidator.check(state, key.generated().secretHash(), service, itemId, referrer, at);
    }

    private ApiKeyState active() {
        return key.state(KeyStatus.ACTIVE, EXPIRES, NOW.minusSeconds(60));
    }

    @Test
    void anActiveKeyWithThePrivilegePasses() {
        assertThat(check(active(), KeyFixtures.BASEMAPS, null, null, NOW)).isEmpty();
    }

    @Test
    void noStateIsAnUnknownKey() {
        assertThat(check(null, KeyFixtures.BASEMAPS, null, null, NOW)).contains(RejectionReason.UNKNOWN_KEY);
    }

    @Test
    void aWrongSecretIsAnUnknownKeyEvenWhenTheKeyIsInvalidated() {
        ApiKeyState invalidated = key.state(KeyStatus.INVALIDATED, EXPIRES, NOW);
        assertThat(KeyValidator.check(invalidated, ApiKeys.hashSecret("guess"), KeyFixtures.BASEMAPS, null, null, NOW))
                .contains(RejectionReason.UNKNOWN_KEY);
        assertThat(KeyValidator.check(active(), null, KeyFixtures.BASEMAPS, null, null, NOW))
                .contains(RejectionReason.UNKNOWN_KEY);
    }

    /**
     * A key state without a status (a writer that renamed the field), or with one this version does not know, was
     * taken as active; read from JSON as Kafka hands it over.
     */
    @Test
    void aStateWithoutAKnownStatusLetsNothingThrough() throws Exception {
        assertThat(check(key.state(null, EXPIRES, NOW), KeyFixtures.BASEMAPS, null, null, NOW))
                .contains(RejectionReason.INVALIDATED);

        byte[] written = Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(), active());
        ObjectNode json = (ObjectNode) Json.mapper().readTree(written);
        json.put("status", "suspended");
        ApiKeyState suspended = Topics.API_KEYS.valueSerde().deserializer().deserialize(Topics.API_KEYS.name(),
                Json.mapper().writeValueAsBytes(json));
        assertThat(suspended.status()).isNull();
        assertThat(check(suspended, KeyFixtures.BASEMAPS, null, null, NOW)).contains(RejectionReason.INVALIDATED);
    }

    @Test
    void invalidatedComesBeforeExpired() {
        ApiKeyState invalidatedAndExpired = key.state(KeyStatus.INVALIDATED, NOW.minusSeconds(1), NOW);
        assertThat(check(invalidatedAndExpired, KeyFixtures.BASEMAPS, null, null, NOW)).contains(RejectionReason.INVALIDATED);
    }

    @Test
    void expiresAtItselfIsExpired() {
        assertThat(check(active(), KeyFixtures.BASEMAPS, null, null, EXPIRES.minusMillis(1))).isEmpty();
        assertThat(check(active(), KeyFixtures.BASEMAPS, null, null, EXPIRES)).contains(RejectionReason.EXPIRED);
        assertThat(check(key.state(KeyStatus.EXPIRED, EXPIRES, NOW), KeyFixtures.BASEMAPS, null, null, NOW))
                .contains(RejectionReason.EXPIRED);
    }

    @Test
    void aServiceWithoutItsPrivilegeOrAnUnknownServiceIsNotPermitted() {
        assertThat(check(active(), KeyFixtures.ROUTING, null, null, NOW)).contains(RejectionReason.SERVICE_NOT_PERMITTED);
        assertThat(check(active(), "teleport", null, null, NOW)).contains(RejectionReason.SERVICE_NOT_PERMITTED);
        assertThat(check(active(), null, null, null, NOW)).contains(RejectionReason.SERVICE_NOT_PERMITTED);
    }

    /** The credential store always writes an expiry; a state without one lets no request through. */
    @Test
    void aStateWithoutAnExpiryIsExpired() {
        assertThat(check(key.state(KeyStatus.ACTIVE, null, NOW), KeyFixtures.BASEMAPS, null, null, NOW))
                .contains(RejectionReason.EXPIRED);
    }

    @Test
    void expiredComesBeforeTheServiceCheck() {
        assertThat(check(active(), KeyFixtures.ROUTING, null, null, EXPIRES)).contains(RejectionReason.EXPIRED);
    }

    @Test
    void itemAccessRestrictsOnlyWhenSet() {
        ApiKeyState restricted = key.state(KeyStatus.ACTIVE, EXPIRES, NOW, List.of("item1", "item2"), List.of());
        assertThat(check(restricted, KeyFixtures.BASEMAPS, "item2", null, NOW)).isEmpty();
        assertThat(check(restricted, KeyFixtures.BASEMAPS, "item3", null, NOW)).contains(RejectionReason.ITEM_NOT_PERMITTED);
        assertThat(check(restricted, KeyFixtures.BASEMAPS, null, null, NOW)).isEmpty();
        // empty item access: no item restriction (ArcGIS semantics)
        assertThat(check(active(), KeyFixtures.BASEMAPS, "anything", null, NOW)).isEmpty();
    }

    @Test
    void referrersRestrictOnlyWhenSetAndAMissingReferrerIsRefused() {
        ApiKeyState restricted = key.state(KeyStatus.ACTIVE, EXPIRES, NOW, List.of(), List.of("https://*.example.com"));
        assertThat(check(restricted, KeyFixtures.BASEMAPS, null, "https://maps.example.com/app", NOW)).isEmpty();
        assertThat(check(restricted, KeyFixtures.BASEMAPS, null, "https://example.com", NOW)).isEmpty();
        assertThat(check(restricted, KeyFixtures.BASEMAPS, null, "https://example.org", NOW))
                .contains(RejectionReason.REFERRER_NOT_PERMITTED);
        assertThat(check(restricted, KeyFixtures.BASEMAPS, null, null, NOW)).contains(RejectionReason.REFERRER_NOT_PERMITTED);
        assertThat(check(active(), KeyFixtures.BASEMAPS, null, null, NOW)).isEmpty();
    }

    @Test
    void theServiceIsCheckedBeforeItemAndReferrer() {
        ApiKeyState restricted = key.state(KeyStatus.ACTIVE, EXPIRES, NOW, List.of("item1"), List.of("https://a.test"));
        assertThat(check(restricted, KeyFixtures.ROUTING, "item9", "https://b.test", NOW))
                .contains(RejectionReason.SERVICE_NOT_PERMITTED);
    }

    @Test
    void itemIsCheckedBeforeReferrer() {
        ApiKeyState restricted = key.state(KeyStatus.ACTIVE, EXPIRES, NOW, List.of("item1"), List.of("https://a.test"));
        assertThat(check(restricted, KeyFixtures.BASEMAPS, "item9", "https://b.test", NOW))
                .contains(RejectionReason.ITEM_NOT_PERMITTED);
    }
}
