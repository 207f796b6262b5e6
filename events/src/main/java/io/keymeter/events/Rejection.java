package io.keymeter.events;

import java.time.Instant;

/**
 * A refused request on {@code keymeter.rejections}: the request (without any secret), its reason, and
 * the credential it belonged to when the key was known.
 */
public record Rejection(
        String requestId,
        String keyId,
        String accountId,
        String credentialId,
        String service,
        String operation,
        long units,
        String itemId,
        String referrer,
        Instant timestamp,
        RejectionReason reason) {

    public static Rejection of(RequestLog request, RejectionReason reason, String accountId, String credentialId) {
        return new Rejection(request.requestId(), request.keyId(), accountId, credentialId, request.service(),
                request.operation(), request.units(), request.itemId(), request.referrer(), request.timestamp(), reason);
    }
}
