package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecisionTest {

    private static final Instant USED = Instant.parse("2026-11-26T12:00:00Z");
    private static final ApiKeyState KEY = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.INVALIDATED,
            USED.minus(Duration.ofHours(3)), "hash", List.of(), List.of(), List.of(), USED.minus(Duration.ofHours(1)));
    private static final RequestLog REQUEST = new RequestLog("r1", "key1", "hash", "basemaps", "tile", 1, null, null,
            USED);

    @Test
    void onlyADecisionWithoutAReasonIsAccepted() {
        assertThat(new Decision(REQUEST, KEY, null).accepted()).isTrue();
        assertThat(new Decision(REQUEST, KEY, RejectionReason.INVALIDATED).accepted()).isFalse();
    }

    /** An invalidated key is dead since its invalidation, an expired one since its expiration. */
    @Test
    void aDeadKeyIsDeadSinceItsInvalidationOrItsExpiration() {
        assertThat(new Decision(REQUEST, KEY, RejectionReason.INVALIDATED).deadFor()).isEqualTo(Duration.ofHours(1));
        assertThat(new Decision(REQUEST, KEY, RejectionReason.EXPIRED).deadFor()).isEqualTo(Duration.ofHours(3));
    }

    /**
     * The validator refuses {@code expired} a state without an expiry, or one saying expired before its expiry; such
     * a key is dead since that state began (the uses of it went unalerted: no time to count from).
     */
    @Test
    void aKeyStatedExpiredOrWithoutAnExpiryIsDeadSinceThatState() {
        ApiKeyState noExpiry = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.ACTIVE, null, "hash", List.of(),
                List.of(), List.of(), USED.minus(Duration.ofHours(2)));
        assertThat(new Decision(REQUEST, noExpiry, RejectionReason.EXPIRED).deadFor()).isEqualTo(Duration.ofHours(2));
        ApiKeyState expiredEarly = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.EXPIRED,
                USED.plus(Duration.ofDays(1)), "hash", List.of(), List.of(), List.of(), USED.minus(Duration.ofHours(4)));
        assertThat(new Decision(REQUEST, expiredEarly, RejectionReason.EXPIRED).deadFor())
                .isEqualTo(Duration.ofHours(4));
        // as the credential store writes it: expired once its time came, dead since that time, not since the state
        ApiKeyState expiredLater = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.EXPIRED,
                USED.minus(Duration.ofHours(5)), "hash", List.of(), List.of(), List.of(), USED.minus(Duration.ofHours(4)));
        assertThat(new Decision(REQUEST, expiredLater, RejectionReason.EXPIRED).deadFor())
                .isEqualTo(Duration.ofHours(5));
        ApiKeyState nothingKnown = new ApiKeyState("key1", "cred", "acme", 1, KeyStatus.ACTIVE, null, "hash", List.of(),
                List.of(), List.of(), null);
        assertThat(new Decision(REQUEST, nothingKnown, RejectionReason.EXPIRED).deadFor()).isNull();
    }

    @Test
    void anyOtherOutcomeHasNoDeadTime() {
        assertThat(new Decision(REQUEST, KEY, null).deadFor()).isNull();
        assertThat(new Decision(REQUEST, KEY, RejectionReason.REFERRER_NOT_PERMITTED).deadFor()).isNull();
        assertThat(new Decision(REQUEST, null, RejectionReason.UNKNOWN_KEY).deadFor()).isNull();
        RequestLog unstamped = new RequestLog("r1", "key1", "hash", "basemaps", "tile", 1, null, null, null);
        assertThat(new Decision(unstamped, KEY, RejectionReason.EXPIRED).deadFor()).isNull();
    }
}
