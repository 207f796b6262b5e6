package io.keymeter.metering.verify;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.RejectionReason;
import java.time.Instant;

/** {@code {"valid":true,"credentialId","keyId","slot","expiresAt"}} or {@code {"valid":false,"reason"}}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VerifyResponse(boolean valid, String credentialId, String keyId, Integer slot, Instant expiresAt,
                             RejectionReason reason) {

    static VerifyResponse valid(ApiKeyState key) {
        return new VerifyResponse(true, key.credentialId(), key.keyId(), key.slot(), key.expiresAt(), null);
    }

    static VerifyResponse invalid(RejectionReason reason) {
        return new VerifyResponse(false, null, null, null, null, reason);
    }
}
