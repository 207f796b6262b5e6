package io.keymeter.metering.alerts;

import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.SecurityAlert;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Raises a security alert when an invalidated or expired key is used: on its first such use, then at most once per
 * {@code interval} (by request time) while it keeps being used, with the running count and first/last use. A stolen
 * key shows up here. Input is keyed by keyId (partition-local state); alerts are keyed by credentialId.
 * <p>
 * A key's state is forgotten once no use of it has reached this processor for {@code retention} (the key-state
 * history's retention) by the instance's clock, so the store holds the keys used stale lately, not every key ever
 * used stale; a use after that starts a new count and alerts at once. Real time of arrival, not the uses' own time:
 * a backlog of uses older than the retention (metering far behind, a gateway producing directly) keeps its running
 * count across the sweeps.
 */
public final class StaleKeyAlerter implements Processor<String, Rejection, String, SecurityAlert> {

    public static final String KIND = "invalid-key-in-use";

    static final Duration SWEEP_INTERVAL = Duration.ofHours(1);

    private final String storeName;
    private final Duration interval;
    private final Duration retention;
    private ProcessorContext<String, SecurityAlert> context;
    private KeyValueStore<String, AlertState> states;

    public StaleKeyAlerter(String storeName, Duration interval, Duration retention) {
        this.storeName = storeName;
        this.interval = interval;
        this.retention = retention;
    }

    /** The rejections this processor looks at. */
    public static boolean concerns(Rejection rejection) {
        return rejection.credentialId() != null
                && (rejection.reason() == RejectionReason.INVALIDATED || rejection.reason() == RejectionReason.EXPIRED);
    }

    @Override
    public void init(ProcessorContext<String, SecurityAlert> context) {
        this.context = context;
        this.states = context.getStateStore(storeName);
        context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME,
                now -> forgetUntouchedSince(Instant.ofEpochMilli(now).minus(retention)));
    }

    private void forgetUntouchedSince(Instant cutoff) {
        List<String> forgotten = new ArrayList<>();
        try (KeyValueIterator<String, AlertState> all = states.all()) {
            while (all.hasNext()) {
                KeyValue<String, AlertState> entry = all.next();
                if (entry.value.lastTouched().isBefore(cutoff)) {
                    forgotten.add(entry.key);
                }
            }
        }
        forgotten.forEach(states::delete);
    }

    @Override
    public void process(Record<String, Rejection> record) {
        Rejection rejection = record.value();
        Instant at = Instant.ofEpochMilli(record.timestamp());
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        AlertState previous = states.get(record.key());
        AlertState state = previous == null
                ? new AlertState(rejection.accountId(), rejection.credentialId(), rejection.reason().code(), 1, at, at,
                        null, now)
                : new AlertState(previous.accountId(), previous.credentialId(), rejection.reason().code(),
                        previous.count() + 1, min(previous.firstSeen(), at), max(previous.lastSeen(), at),
                        previous.lastAlertAt(), now);
        if (state.lastAlertAt() == null || !state.lastSeen().isBefore(state.lastAlertAt().plus(interval))) {
            state = new AlertState(state.accountId(), state.credentialId(), state.reason(), state.count(),
                    state.firstSeen(), state.lastSeen(), state.lastSeen(), now);
            SecurityAlert alert = new SecurityAlert(KIND, state.accountId(), state.credentialId(), record.key(),
                    state.reason(), state.count(), state.firstSeen(), state.lastSeen());
            context.forward(record.withKey(state.credentialId()).withValue(alert));
        }
        states.put(record.key(), state);
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
