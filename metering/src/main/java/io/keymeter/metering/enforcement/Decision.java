package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.time.Instant;

/**
 * The outcome for one request: accepted when {@code reason} is null. {@code key} is the key's state at the
 * request's time (null when the key did not exist then). Only lives between the join and the branches.
 */
public record Decision(RequestLog request, ApiKeyState key, RejectionReason reason) {

    public boolean accepted() {
        return reason == null;
    }

    public String accountId() {
        return key == null ? null : key.accountId();
    }

    public String credentialId() {
        return key == null ? null : key.credentialId();
    }

    /**
     * How long the key had been dead when the request was made: since the state that says invalidated began (the
     * invalidation) for a use refused {@code invalidated}, since it expired for one refused {@code expired}; null
     * for any other outcome.
     */
    public Duration deadFor() {
        Instant since = key == null || reason == null ? null : switch (reason) {
            case INVALIDATED -> key.updatedAt();
            case EXPIRED -> expiredSince(key);
            default -> null;
        };
        return since == null || request.timestamp() == null ? null : Duration.between(since, request.timestamp());
    }

    /**
     * {@code expiresAt}, or when the state began if that was earlier and the state says expired, or has no
     * {@code expiresAt} at all (the validator refuses such a key, so its uses are stale ones like any other; the
     * credential store writes neither).
     */
    private static Instant expiredSince(ApiKeyState key) {
        Instant expiresAt = key.expiresAt();
        Instant stated = key.updatedAt();
        if (expiresAt == null || stated != null && key.status() == KeyStatus.EXPIRED && stated.isBefore(expiresAt)) {
            return stated;
        }
        return expiresAt;
    }

    /** The rejection as published, naming the credential only when the key is known. */
    public Rejection rejection() {
        return Rejection.of(request, reason, accountId(), credentialId());
    }
}
