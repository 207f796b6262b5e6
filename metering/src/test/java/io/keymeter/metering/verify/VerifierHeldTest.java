package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.web.ApiProblem;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * A key whose newer state waits unread is refused; the others are answered, and health names the held partition
 * while it stays UP. The cache is a stand-in holding one key (its readers, on a broker, in
 * {@link KeyStateCacheHeldTest}).
 */
class VerifierHeldTest {

    private static final String WAITS = "a newer state of this key, written to keymeter.api-keys-2 at offset 9, ...";
    private static final String HELD = "held on keymeter.api-keys-2 at offset 7 for over 60 s by a transaction ...";
    private final ApiKeys.GeneratedKey heldKey = ApiKeys.generate();
    private final ApiKeys.GeneratedKey otherKey = ApiKeys.generate();

    private final KeyStateCache cache = new KeyStateCache(new KafkaClients(() -> List.of("localhost:1"),
            new KafkaProperties()), new VerifySettings(Duration.ofSeconds(10), Duration.ZERO)) {
        @Override
        public Optional<String> notCurrentBecause() {
            return Optional.empty();
        }

        @Override
        public Optional<String> heldFor(String keyId) {
            return keyId.equals(heldKey.keyId()) ? Optional.of(WAITS) : Optional.empty();
        }

        @Override
        public List<String> heldPartitions() {
            return List.of(HELD);
        }
    };

    private final Verifier verifier = new Verifier(cache, Clock.systemUTC(), new SimpleMeterRegistry());

    @Test
    void onlyAKeyWithAStateUnreadWaits() {
        assertThatThrownBy(() -> verifier.verify(request(heldKey.apiKey()))).isInstanceOfSatisfying(
                ApiProblem.class, problem -> {
                    assertThat(problem.status()).isEqualTo(503);
                    assertThat(problem.getMessage()).isEqualTo("Verify cannot answer now: " + WAITS + ".");
                    assertThat(problem.retryAfter()).isEqualTo(Duration.ofSeconds(1));
                });
        assertThat(verifier.verify(request(otherKey.apiKey())).reason()).as("answered: no such key here")
                .isEqualTo(RejectionReason.UNKNOWN_KEY);
        assertThat(verifier.verify(request("not-a-key")).reason()).as("malformed: answered as such")
                .isEqualTo(RejectionReason.MALFORMED_KEY);
    }

    @Test
    void aCacheNotCurrentAnswersNoKeyAndCountsNoAnswer() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KeyStateCache loading = new KeyStateCache(new KafkaClients(() -> List.of("localhost:1"),
                new KafkaProperties()), new VerifySettings(Duration.ofSeconds(10), Duration.ZERO));
        Verifier notReady = new Verifier(loading, Clock.systemUTC(), registry);

        for (String apiKey : List.of(otherKey.apiKey(), "not-a-key")) {
            assertThatThrownBy(() -> notReady.verify(request(apiKey))).isInstanceOfSatisfying(ApiProblem.class,
                    problem -> assertThat(problem.getMessage()).isEqualTo("Verify cannot answer now: loading key "
                            + "states."));
        }
        assertThat(registry.find(Verifier.ANSWERS_METRIC).counters()).isNotEmpty().allSatisfy(counter -> assertThat(
                counter.count()).isZero());
    }

    @Test
    void eachAnswerIsCountedByItsOutcomeAndAWaitingKeyIsNot() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Verifier counted = new Verifier(cache, Clock.systemUTC(), registry);

        counted.verify(request(otherKey.apiKey()));
        counted.verify(request("not-a-key"));
        counted.verify(request("not-a-key"));
        assertThatThrownBy(() -> counted.verify(request(heldKey.apiKey()))).isInstanceOf(ApiProblem.class);

        assertThat(answers(registry, RejectionReason.UNKNOWN_KEY.code())).isEqualTo(1);
        assertThat(answers(registry, RejectionReason.MALFORMED_KEY.code())).isEqualTo(2);
        assertThat(registry.find(Verifier.ANSWERS_METRIC).counters().stream().mapToDouble(Counter::count).sum())
                .as("the 503 is no answer").isEqualTo(3);
    }

    @Test
    void healthStaysUpAndListsTheHeldPartitions() {
        Health health = new VerifyHealthIndicator(cache).health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("heldPartitions", List.of(HELD));
    }

    private static double answers(SimpleMeterRegistry registry, String outcome) {
        return registry.get(Verifier.ANSWERS_METRIC).tag(OutcomeCounters.OUTCOME_TAG, outcome).counter().count();
    }

    private static VerifyRequest request(String apiKey) {
        return new VerifyRequest(apiKey, "basemaps", null, null);
    }
}
