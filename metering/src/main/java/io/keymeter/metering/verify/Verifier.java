package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.metering.enforcement.KeyValidator;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** Answers "may this key serve this call now?" from the local key-state cache, with metering's validator. */
@Component
public class Verifier {

    /** {@code keymeter_verify_answers_total{outcome}}: {@code valid} or the reason refused. */
    public static final String ANSWERS_METRIC = "keymeter.verify.answers";

    private final KeyStateCache cache;
    private final Clock clock;
    private final OutcomeCounters answers;

    public Verifier(KeyStateCache cache, Clock clock, MeterRegistry meterRegistry) {
        this.cache = cache;
        this.clock = clock;
        this.answers = new OutcomeCounters(meterRegistry, ANSWERS_METRIC,
                "Answers of POST /v1/verify, by outcome: valid or the reason refused", "valid");
    }

    /**
     * Why {@code request} may not be answered now, or empty when it may: the cache is not current (see
     * {@link KeyStateCache#current}), or the key's partition is held behind a transaction left open
     * ({@link KeyStateCache#heldFor}).
     */
    public Optional<String> notReadyBecause(VerifyRequest request) {
        return cache.notCurrentBecause().or(() -> ApiKeys.parse(request.apiKey())
                .flatMap(key -> cache.heldFor(key.keyId())));
    }

    public VerifyResponse verify(VerifyRequest request) {
        Optional<ApiKeys.ParsedKey> parsed = ApiKeys.parse(request.apiKey());
        if (parsed.isEmpty()) {
            answers.count(RejectionReason.MALFORMED_KEY);
            return VerifyResponse.invalid(RejectionReason.MALFORMED_KEY);
        }
        ApiKeyState key = cache.get(parsed.get().keyId());
        RejectionReason reason = KeyValidator.check(key, parsed.get().secretHash(), request.service(),
                request.itemId(), request.referrer(), clock.instant()).orElse(null);
        answers.count(reason);
        return reason == null ? VerifyResponse.valid(key) : VerifyResponse.invalid(reason);
    }
}
