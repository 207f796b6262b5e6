package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.metering.enforcement.KeyValidator;
import java.time.Clock;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** Answers "may this key serve this call now?" from the local key-state cache, with metering's validator. */
@Component
public class Verifier {

    private final KeyStateCache cache;
    private final Clock clock;

    public Verifier(KeyStateCache cache, Clock clock) {
        this.cache = cache;
        this.clock = clock;
    }

    public boolean ready() {
        return cache.caughtUp();
    }

    public VerifyResponse verify(VerifyRequest request) {
        Optional<ApiKeys.ParsedKey> parsed = ApiKeys.parse(request.apiKey());
        if (parsed.isEmpty()) {
            return VerifyResponse.invalid(RejectionReason.MALFORMED_KEY);
        }
        ApiKeyState key = cache.get(parsed.get().keyId());
        Optional<RejectionReason> reason = KeyValidator.check(key, parsed.get().secretHash(), request.service(),
                request.itemId(), request.referrer(), clock.instant());
        return reason.map(VerifyResponse::invalid).orElseGet(() -> VerifyResponse.valid(key));
    }
}
