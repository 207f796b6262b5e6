package io.keymeter.metering.enforcement;

import io.keymeter.events.RejectionReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * One Micrometer counter per outcome of judging a key, tag {@code outcome}: the good outcome ({@code accepted},
 * {@code valid}), every rejection reason's code, and any other outcomes named. All are registered up front, so a
 * dashboard sees zeros instead of missing series. Operational figures, not billing: a request judged again after a
 * crash counts again here, while usage counts it once.
 */
public final class OutcomeCounters {

    public static final String OUTCOME_TAG = "outcome";

    private final Counter good;
    private final Map<RejectionReason, Counter> refused = new EnumMap<>(RejectionReason.class);
    private final Map<String, Counter> others = new HashMap<>();

    public OutcomeCounters(MeterRegistry registry, String name, String description, String goodOutcome,
                           String... otherOutcomes) {
        good = counter(registry, name, description, goodOutcome);
        for (RejectionReason reason : RejectionReason.values()) {
            refused.put(reason, counter(registry, name, description, reason.code()));
        }
        for (String outcome : otherOutcomes) {
            others.put(outcome, counter(registry, name, description, outcome));
        }
    }

    /** Counts the good outcome when {@code reason} is null, else that rejection. */
    public void count(RejectionReason reason) {
        (reason == null ? good : refused.get(reason)).increment();
    }

    /** Counts one of the other outcomes named at construction. */
    public void count(String otherOutcome) {
        Counter counter = others.get(otherOutcome);
        if (counter == null) {
            throw new IllegalArgumentException("no counter for outcome " + otherOutcome);
        }
        counter.increment();
    }

    private static Counter counter(MeterRegistry registry, String name, String description, String outcome) {
        return Counter.builder(name).description(description).tag(OUTCOME_TAG, outcome).register(registry);
    }
}
