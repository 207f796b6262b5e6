package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.RejectionReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OutcomeCountersTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final OutcomeCounters counters = new OutcomeCounters(registry, "judged", "what was judged", "ok", "resent");

    @Test
    void everyOutcomeIsASeriesFromTheStartAtZero() {
        assertThat(counts()).hasSize(2 + RejectionReason.values().length)
                .containsEntry("ok", 0.0).containsEntry("resent", 0.0)
                .containsEntry("malformed-key", 0.0).containsEntry("referrer-not-permitted", 0.0);
    }

    @Test
    void countsTheGoodOutcomeEachReasonAndTheOthersApart() {
        counters.count((RejectionReason) null);
        counters.count((RejectionReason) null);
        counters.count(RejectionReason.EXPIRED);
        counters.count("resent");

        assertThat(counts()).containsEntry("ok", 2.0).containsEntry("expired", 1.0).containsEntry("resent", 1.0)
                .containsEntry("invalidated", 0.0);
    }

    @Test
    void anOutcomeNotNamedAtConstructionIsAnError() {
        assertThatThrownBy(() -> counters.count("typo")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("typo");
    }

    @Test
    void twoSetsOfTheSameNameShareTheirCounters() {
        // what happens when a topology is built twice in one JVM (tests, benchmarks): Micrometer hands back the same
        new OutcomeCounters(registry, "judged", "what was judged", "ok", "resent").count(RejectionReason.EXPIRED);
        counters.count(RejectionReason.EXPIRED);
        assertThat(counts()).containsEntry("expired", 2.0);
    }

    private Map<String, Double> counts() {
        return registry.get("judged").counters().stream()
                .collect(Collectors.toMap(c -> c.getId().getTag(OutcomeCounters.OUTCOME_TAG), Counter::count));
    }
}
