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

    /**
     * The rejection of a request, every key's secret in its texts masked ({@link ApiKeys#redact}): ingest masks a
     * line's, but a gateway producing to {@code keymeter.requests} directly may have put a key in any of them (a
     * logged URL with {@code ?token=}), and this topic is read by billing and kept for max-age plus a week.
     */
    public static Rejection of(RequestLog request, RejectionReason reason, String accountId, String credentialId) {
        return new Rejection(ApiKeys.redact(request.requestId()), request.keyId(), accountId, credentialId,
                ApiKeys.redact(request.service()), ApiKeys.redact(request.operation()), request.units(),
                ApiKeys.redact(request.itemId()), ApiKeys.redact(request.referrer()), request.timestamp(), reason);
    }
}
