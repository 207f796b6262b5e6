package io.keymeter.metering.alerts;

import io.keymeter.events.Rejection;
import io.keymeter.events.SecurityAlert;
import io.keymeter.metering.enforcement.Decision;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises a security alert when an invalidated or expired key is used (more than the grace of {@link #concerns} after
 * it died): on its first such use, then at most once per {@code interval} (by request time) while it keeps being
 * used, with the running count and first/last use. A stolen
 * key shows up here. Input is keyed by keyId (partition-local state); alerts are keyed by credentialId.
 * <p>
 * Uses within the interval after an alert are counted, and reported by the next alert. A key that then goes quiet
 * sends no further use to bring one: the sweep (every 5 minutes) reports such uses once an interval has passed since
 * the last alert, by the instance's clock (without it the last alert's count and last use stayed behind for good).
 * The next use's alert then waits an interval from the sweep's report ({@link AlertState#swept}).
 * <p>
 * A key's state is forgotten once no use of it has reached this processor for {@code retention} (the key-state
 * history's retention) by the instance's clock, so the store holds the keys used stale lately, not every key ever
 * used stale; a use after that starts a new count and alerts at once. Real time of arrival, not the uses' own time:
 * a backlog of uses older than the retention (metering far behind, a gateway producing directly) keeps its running
 * count across the sweeps.
 * <p>
 * A state this version cannot read reads as none ({@link AlertStateSerde}): a use starts a new count, the sweep
 * forgets it and goes on.
 */
public final class StaleKeyAlerter implements Processor<String, Rejection, String, SecurityAlert> {

    public static final String KIND = "invalid-key-in-use";
    private static final Logger LOG = LoggerFactory.getLogger(StaleKeyAlerter.class);

    /**
     * How often the sweep looks (wall clock): much shorter than the alert interval, so that a task restarted or moved
     * more often than hourly still reports and forgets (the schedule starts again with every task).
     */
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(5);

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

    /**
     * The uses this processor looks at: of a known key refused invalidated or expired, made at least {@code grace}
     * after the key died. A use within the grace is refused and counted all the same, but is no sign of a stolen
     * key: a gateway and its client learn of an invalidation only after it is stamped (a probe measured up to 344 ms
     * to the invalidate call's answer on a loaded machine, and a gateway's cache of keymeter.api-keys up to 126 ms
     * later), so every key regenerated or invalidated under traffic raised an alert for the requests in flight.
     */
    public static boolean concerns(Decision decision, Duration grace) {
        Duration dead = decision.deadFor();
        return decision.credentialId() != null && dead != null && dead.compareTo(grace) >= 0;
    }

    @Override
    public void init(ProcessorContext<String, SecurityAlert> context) {
        this.context = context;
        this.states = context.getStateStore(storeName);
        context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> sweep(Instant.ofEpochMilli(now)));
    }

    /**
     * Reports uses no alert has reported yet, and forgets keys untouched for the retention (after reporting them).
     * What changes is collected first and written after the scan, each state before its alert (a scan that fails
     * leaves no alert without its state): writing into a transactional store while iterating it is not safe.
     */
    private void sweep(Instant now) {
        Instant cutoff = now.minus(retention);
        List<String> forgotten = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        int unreadable = 0;
        try (KeyValueIterator<String, AlertState> all = states.all()) {
            while (all.hasNext()) {
                KeyValue<String, AlertState> entry = all.next();
                if (entry.value == null) { // unreadable by this version (AlertStateSerde): nothing to report
                    forgotten.add(entry.key);
                    unreadable++;
                    continue;
                }
                AlertState state = counted(entry.value);
                if (state.count() > state.alertedCount()
                        && (state.alertedAt() == null || !now.isBefore(state.alertedAt().plus(interval)))) {
                    changes.add(new Change(entry.key, state.swept(now), true));
                } else if (state != entry.value) {
                    changes.add(new Change(entry.key, state, false)); // counted now, nothing to report
                }
                if (state.lastTouched().isBefore(cutoff)) {
                    forgotten.add(entry.key);
                }
            }
        }
        if (unreadable > 0) {
            LOG.warn("{} security alert state(s) unreadable by this version (a later version's, or damaged) forgotten: "
                    + "the next use of such a key starts a new count and alerts at once", unreadable);
        }
        for (Change change : changes) {
            states.put(change.keyId(), change.state());
            if (change.report()) {
                forward(change.keyId(), change.state(), change.state().lastSeen().toEpochMilli());
            }
        }
        forgotten.forEach(states::delete);
    }

    /** A state the sweep writes, and whether it sends its alert. */
    private record Change(String keyId, AlertState state, boolean report) {
    }

    /**
     * A state kept before alerts were counted says only which use its last alert reported: uses after that one are
     * reported once (counted as if the alert before them had reported all but one), none before it again.
     */
    private static AlertState counted(AlertState state) {
        if (state.alertedCount() != null) {
            return state;
        }
        boolean unreported = state.lastAlertAt() == null || state.lastSeen().isAfter(state.lastAlertAt());
        return new AlertState(state.accountId(), state.credentialId(), state.reason(), state.count(),
                state.firstSeen(), state.lastSeen(), state.lastAlertAt(), state.touchedAt(),
                unreported ? state.count() - 1 : state.count(), null, state.lastSeenArrivedAt());
    }

    private void forward(String keyId, AlertState state, long timestamp) {
        SecurityAlert alert = new SecurityAlert(KIND, state.accountId(), state.credentialId(), keyId, state.reason(),
                state.count(), state.firstSeen(), state.lastSeen());
        context.forward(new Record<>(state.credentialId(), alert, timestamp));
    }

    @Override
    public void process(Record<String, Rejection> record) {
        Rejection rejection = record.value();
        // the request's own time, not the record's milliseconds: cut, a use 0.5 ms after an expiry read as a moment
        // the key was still valid
        Instant at = rejection.timestamp() != null ? rejection.timestamp() : Instant.ofEpochMilli(record.timestamp());
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        AlertState previous = states.get(record.key()); // null too when unreadable: a new count, alerted at once
        AlertState state = previous == null
                ? new AlertState(rejection.accountId(), rejection.credentialId(), rejection.reason().code(), 1, at, at,
                        null, now, 0L, null, now)
                // the reason of the latest use by time: a late request made before the key was invalidated (refused
                // expired) must not relabel a stolen key's uses after the invalidation
                : new AlertState(previous.accountId(), previous.credentialId(),
                        at.isBefore(previous.lastSeen()) ? previous.reason() : rejection.reason().code(),
                        previous.count() + 1, min(previous.firstSeen(), at), max(previous.lastSeen(), at),
                        previous.lastAlertAt(), now, previous.alertedCount(), previous.alertedAt(),
                        // a use made earlier, or at the same time, and arriving later does not move it (the
                        // last touch, for a state written before it was kept, is no earlier than that arrival)
                        at.isAfter(previous.lastSeen()) ? now : previous.lastSeenArrival());
        if (state.lastAlertAt() == null || !state.lastSeen().isBefore(state.lastAlertAt().plus(interval))) {
            state = state.alerted(now);
            forward(record.key(), state, record.timestamp());
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
