package io.keymeter.metering.alerts;

import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.SecurityAlert;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Raises a security alert when an invalidated or expired key is used: on its first such use, then at most once per
 * {@code interval} (by request time) while it keeps being used, with the running count and first/last use. A stolen
 * key shows up here. Input is keyed by keyId (partition-local state); alerts are keyed by credentialId.
 */
public final class StaleKeyAlerter implements Processor<String, Rejection, String, SecurityAlert> {

    public static final String KIND = "invalid-key-in-use";

    private final String storeName;
    private final Duration interval;
    private ProcessorContext<String, SecurityAlert> context;
    private KeyValueStore<String, AlertState> states;

    public StaleKeyAlerter(String storeName, Duration interval) {
        this.storeName = storeName;
        this.interval = interval;
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
    }

    @Override
    public void process(Record<String, Rejection> record) {
        Rejection rejection = record.value();
        Instant at = Instant.ofEpochMilli(record.timestamp());
        AlertState previous = states.get(record.key());
        AlertState state = previous == null
                ? new AlertState(rejection.accountId(), rejection.credentialId(), rejection.reason().code(), 1, at, at, null)
                : new AlertState(previous.accountId(), previous.credentialId(), rejection.reason().code(),
                        previous.count() + 1, min(previous.firstSeen(), at), max(previous.lastSeen(), at),
                        previous.lastAlertAt());
        if (state.lastAlertAt() == null || !state.lastSeen().isBefore(state.lastAlertAt().plus(interval))) {
            state = new AlertState(state.accountId(), state.credentialId(), state.reason(), state.count(),
                    state.firstSeen(), state.lastSeen(), state.lastSeen());
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
