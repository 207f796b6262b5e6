package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Referrers;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.ServiceCatalog;
import java.time.Instant;
import java.util.Optional;

/**
 * Decides whether a key, in the state it had at a given instant, may serve one request. Shared by the metering
 * topology (the state at the request's own timestamp) and {@code /v1/verify} (the latest state, at now).
 * <p>
 * Checks run in the contract's order; the first failing one is the reason. An {@code itemId} against a key with
 * empty item access passes: as in ArcGIS, no item access means "no item restriction".
 */
public final class KeyValidator {

    private KeyValidator() {
    }

    /**
     * @param key        the key's state at {@code at}, or null when the key did not exist then
     * @param secretHash the hash of the presented secret
     * @return the reason to refuse, or empty when the request is allowed
     */
    public static Optional<RejectionReason> check(ApiKeyState key, String secretHash, String service, String itemId,
                                                  String referrer, Instant at) {
        if (key == null || !ApiKeys.hashesEqual(key.secretHash(), secretHash)) {
            return Optional.of(RejectionReason.UNKNOWN_KEY);
        }
        // only a state that says active lets a key through: none (a writer that renamed the field) or one this
        // version does not know (KeyStatus.fromJson) was taken as active
        if (key.status() != KeyStatus.ACTIVE && key.status() != KeyStatus.EXPIRED) {
            return Optional.of(RejectionReason.INVALIDATED);
        }
        if (key.status() == KeyStatus.EXPIRED || key.expiresAt() == null || !at.isBefore(key.expiresAt())) {
            return Optional.of(RejectionReason.EXPIRED);
        }
        Optional<String> privilege = ServiceCatalog.privilegeFor(service);
        if (privilege.isEmpty() || !key.privileges().contains(privilege.get())) {
            return Optional.of(RejectionReason.SERVICE_NOT_PERMITTED);
        }
        if (itemId != null && !key.itemAccess().isEmpty() && !key.itemAccess().contains(itemId)) {
            return Optional.of(RejectionReason.ITEM_NOT_PERMITTED);
        }
        if (!key.referrers().isEmpty() && !Referrers.matches(key.referrers(), referrer)) {
            return Optional.of(RejectionReason.REFERRER_NOT_PERMITTED);
        }
        return Optional.empty();
    }
}
