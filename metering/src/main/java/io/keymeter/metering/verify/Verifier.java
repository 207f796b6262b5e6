package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.metering.enforcement.KeyValidator;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.platform.web.ApiProblem;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** Answers "may this key serve this call now?" from the local key-state cache, with metering's validator. */
@Component
public class Verifier {

    /** {@code keymeter_verify_answers_total{outcome}}: {@code valid} or the reason refused. */
    public static final String ANSWERS_METRIC = "keymeter.verify.answers";
    /** {@code keymeter_verify_unreadable_key_states_total}: key states the cache skipped (see {@link KeyStateCache}). */
    public static final String UNREADABLE_METRIC = "keymeter.verify.unreadable-key-states";

    private final KeyStateCache cache;
    private final Clock clock;
    private final OutcomeCounters answers;

    public Verifier(KeyStateCache cache, Clock clock, MeterRegistry meterRegistry) {
        this.cache = cache;
        this.clock = clock;
        this.answers = new OutcomeCounters(meterRegistry, ANSWERS_METRIC,
                "Answers of POST /v1/verify, by outcome: valid or the reason refused", "valid");
        FunctionCounter.builder(UNREADABLE_METRIC, cache, KeyStateCache::unreadableStates)
                .description("Key states on keymeter.api-keys verify could not read and skipped, keeping the key's "
                        + "previous state")
                .register(meterRegistry);
    }

    /**
     * The answer for {@code request}; a 503 instead while the cache is not current (see
     * {@link KeyStateCache#current}) or the key's partition is held behind a transaction left open
     * ({@link KeyStateCache#heldFor}): a 503 is not an answer, and is not counted as one. The key is parsed once,
     * here: parsing hashes its secret.
     */
    public VerifyResponse verify(VerifyRequest request) {
        cache.notCurrentBecause().ifPresent(Verifier::cannotAnswer);
        Optional<ApiKeys.ParsedKey> parsed = ApiKeys.parse(request.apiKey());
        if (parsed.isEmpty()) {
            answers.count(RejectionReason.MALFORMED_KEY);
            return VerifyResponse.invalid(RejectionReason.MALFORMED_KEY);
        }
        cache.heldFor(parsed.get().keyId()).ifPresent(Verifier::cannotAnswer);
        ApiKeyState key = cache.get(parsed.get().keyId());
        // judged as metering will judge the line: with any key in its texts masked, as ingest masks them
        RejectionReason reason = KeyValidator.check(key, parsed.get().secretHash(), request.service(),
                ApiKeys.redact(request.itemId()), ApiKeys.redact(request.referrer()), clock.instant()).orElse(null);
        answers.count(reason);
        return reason == null ? VerifyResponse.valid(key) : VerifyResponse.invalid(reason);
    }

    private static void cannotAnswer(String reason) {
        throw ApiProblem.unavailable("Verify cannot answer now: " + reason + ".", Duration.ofSeconds(1));
    }
}
