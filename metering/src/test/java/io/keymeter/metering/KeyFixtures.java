package io.keymeter.metering;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RequestLog;
import java.time.Instant;
import java.util.List;

/** Key states and requests for metering tests. */
public final class KeyFixtures {

    public static final String BASEMAPS = "basemaps";
    public static final String GEOCODING = "geocoding";
    public static final String ROUTING = "routing";
    public static final List<String> PRIVILEGES = List.of("premium:user:basemaps", "premium:user:geocode:temporary");

    private KeyFixtures() {
    }

    /** A key with its secret; {@code state(...)} builds its published state. */
    public record TestKey(ApiKeys.GeneratedKey generated, String accountId, String credentialId, int slot) {

        public static TestKey create(String accountId, String credentialId, int slot) {
            return new TestKey(ApiKeys.generate(), accountId, credentialId, slot);
        }

        public String keyId() {
            return generated.keyId();
        }

        public String apiKey() {
            return generated.apiKey();
        }

        public ApiKeyState state(KeyStatus status, Instant expiresAt, Instant updatedAt) {
            return state(status, expiresAt, updatedAt, List.of(), List.of());
        }

        public ApiKeyState state(KeyStatus status, Instant expiresAt, Instant updatedAt, List<String> itemAccess,
                                 List<String> referrers) {
            return new ApiKeyState(keyId(), credentialId, accountId, slot, status, expiresAt, generated.secretHash(),
                    PRIVILEGES, itemAccess, referrers, updatedAt);
        }

        public RequestLog request(String requestId, String service, long units, Instant at) {
            return request(requestId, service, units, null, null, at);
        }

        public RequestLog request(String requestId, String service, long units, String itemId, String referrer,
                                  Instant at) {
            return new RequestLog(requestId, keyId(), generated.secretHash(), service, "op", units, itemId, referrer, at);
        }

        /** A request presenting this keyId with a different secret. */
        public RequestLog forged(String requestId, String service, Instant at) {
            return new RequestLog(requestId, keyId(), ApiKeys.hashSecret("not-the-secret"), service, "op", 1, null, null, at);
        }
    }
}
