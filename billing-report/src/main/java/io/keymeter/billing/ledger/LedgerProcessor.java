package io.keymeter.billing.ledger;

import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.billing.cycles.StatementCalculator;
import io.keymeter.billing.cycles.Totals;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Statement;
import io.keymeter.events.StatementLine;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.streams.RunningPartitions;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.StringSerializer;
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
 * Keeps each account's billing ledger and issues its statements. Records update the stores; a wall-clock
 * punctuator settles what is due: a cycle {@code close-grace} after its end gets its final statement (even when
 * the account has been idle since), a closed cycle whose usage changed gets one adjustment, however many updates
 * arrived, at the first punctuation {@code adjustment-interval} after its last statement (one at every punctuation
 * made 360 statements an hour while late usage trickled in). The issued state lives in the stores, written in the same exactly-once transaction as the
 * statement, so a restart or a rebalance never issues a statement twice.
 * <p>
 * <b>Caught up first.</b> A final statement is issued only once this task has read its input up to the cycle's
 * close: its stream time (the newest input record time) has reached it, or no input has arrived for
 * {@link LedgerLimits#idle()} (nothing more is coming), or it has waited {@link LedgerLimits#maxCatchUp()}.
 * Otherwise a ledger restarted after an outage across a cycle's close ran its first punctuation after its first
 * batch of the backlog, issued the final statement from that part, and billed the rest of the month, which had
 * reached Kafka before the close, as an adjustment seconds later. Stream time is the newest record this task read
 * from any upstream task: one upstream task further through its backlog than another can pass the close first, and
 * what the other still holds is then an adjustment, as before.
 * <p>
 * <b>Running.</b> Its task's partition counts as running ({@link RunningPartitions}, which the reports consult) from
 * the end of {@link #init}, once the task is restored, until {@link #close}: Kafka Streams also answers interactive
 * queries from a task being restored again after a corruption, its stores wiped, and a report then held part of the
 * usage.
 */
final class LedgerProcessor implements Processor<String, BillingInput, String, Statement> {

    private static final Logger log = LoggerFactory.getLogger(LedgerProcessor.class);
    private static final StringSerializer KEYS = new StringSerializer();

    private final StatementCalculator calculator;
    private final Duration closeGrace;
    private final Duration adjustmentInterval;
    private final Duration checkInterval;
    private final LedgerLimits limits;
    private final RunningPartitions runningPartitions;
    private RunningPartitions.Registration running;

    private ProcessorContext<String, Statement> context;
    private KeyValueStore<String, Totals> usage;
    private KeyValueStore<String, CredentialInfo> credentials;
    private KeyValueStore<String, Long> rejections;
    private KeyValueStore<String, Long> rejectionReasons;
    private KeyValueStore<String, CycleState> cycles;
    private KeyValueStore<String, String> pending;
    private KeyValueStore<String, Statement> statements;
    private KeyValueStore<String, SecurityAlert> alerts;
    /** Wall-clock time of the last input record, or of the task's start. */
    private long lastInputAt;
    /** Wall-clock time since which a final statement has been waiting for the input, or -1. */
    private long waitingSince = -1;
    /** The due time of the first final found waiting: once the input is read up to it, that wait is over. */
    private long waitingFor;

    LedgerProcessor(StatementCalculator calculator, Duration closeGrace, Duration adjustmentInterval,
                    Duration checkInterval, LedgerLimits limits, RunningPartitions runningPartitions) {
        this.calculator = calculator;
        this.closeGrace = closeGrace;
        this.adjustmentInterval = adjustmentInterval;
        this.checkInterval = checkInterval;
        this.limits = limits;
        this.runningPartitions = runningPartitions;
    }

    @Override
    public void init(ProcessorContext<String, Statement> context) {
        this.context = context;
        usage = context.getStateStore(BillingTopology.USAGE_STORE);
        credentials = context.getStateStore(BillingTopology.CREDENTIALS_STORE);
        rejections = context.getStateStore(BillingTopology.REJECTIONS_STORE);
        rejectionReasons = context.getStateStore(BillingTopology.REJECTION_REASONS_STORE);
        cycles = context.getStateStore(BillingTopology.CYCLES_STORE);
        pending = context.getStateStore(BillingTopology.PENDING_STORE);
        statements = context.getStateStore(BillingTopology.STATEMENTS_STORE);
        alerts = context.getStateStore(BillingTopology.ALERTS_STORE);
        context.schedule(checkInterval, PunctuationType.WALL_CLOCK_TIME, this::settleDue);
        lastInputAt = context.currentSystemTimeMs();
        // last: the task is restored, the reports may read this partition
        running = runningPartitions.started(context.taskId().partition());
    }

    /** The task is suspended or closed (also dirty, on a corruption, before its stores are wiped and restored). */
    @Override
    public void close() {
        if (running != null) { // closing it again, on a later close, counts once
            running.close();
        }
    }

    @Override
    public void process(Record<String, BillingInput> record) {
        lastInputAt = context.currentSystemTimeMs();
        String accountId = record.key();
        BillingInput input = record.value();
        if (input instanceof BillingInput.Usage u) {
            usage(accountId, u.usage());
        } else if (input instanceof BillingInput.CredentialNamed c) {
            credential(accountId, c);
        } else if (input instanceof BillingInput.Rejected r) {
            BillingCycle cycle = BillingCycle.of(r.timestamp());
            increment(rejections, StoreKeys.rejections(accountId, cycle, r.credentialId()));
            if (r.reason() != null) {
                increment(rejectionReasons, StoreKeys.rejectionReason(accountId, cycle, r.credentialId(), r.reason()));
            }
        } else if (input instanceof BillingInput.Alerted a) {
            alert(accountId, a.alert());
        }
    }

    /**
     * Keeps a key's latest alert per run of uses and cycle: each carries metering's running count since the run's
     * first use (and the latest use's reason), so the latest says it all. An alert that covers one held (its uses
     * span it and count at least as many) replaces it, also when a late use moved the run's first use earlier
     * (another key); one covered by an alert held (an older alert arriving later) changes nothing. A new run, counted
     * again from 1 after metering forgot the key, covers none and is a row of its own.
     */
    private void alert(String accountId, SecurityAlert alert) {
        String prefix = StoreKeys.alertPrefix(accountId, BillingCycle.of(alert.lastSeen()), alert.credentialId(),
                alert.keyId());
        List<String> covered = new ArrayList<>();
        try (KeyValueIterator<String, SecurityAlert> held = alerts.prefixScan(prefix, KEYS)) {
            while (held.hasNext()) {
                KeyValue<String, SecurityAlert> entry = held.next();
                if (covers(entry.value, alert)) {
                    return;
                }
                if (covers(alert, entry.value)) {
                    covered.add(entry.key);
                }
            }
        }
        covered.forEach(alerts::delete);
        alerts.put(prefix + alert.firstSeen().toEpochMilli(), alert);
    }

    private static void increment(KeyValueStore<String, Long> counts, String key) {
        Long count = counts.get(key);
        counts.put(key, count == null ? 1 : count + 1);
    }

    /** {@code a} reports every use {@code b} does: its uses span b's and it counts at least as many. */
    private static boolean covers(SecurityAlert a, SecurityAlert b) {
        return a.count() >= b.count() && !a.firstSeen().isAfter(b.firstSeen()) && !a.lastSeen().isBefore(b.lastSeen());
    }

    private void usage(String accountId, UsageDaily day) {
        String key = StoreKeys.usage(accountId, day.credentialId(), day.service(), day.date());
        Totals next = new Totals(day.requests(), day.units());
        Totals previous = usage.get(key);
        if (Objects.equals(previous, next) || (previous == null && next.isZero())) {
            return; // a repeat of the totals we hold: nothing to bill
        }
        if (next.isZero()) {
            usage.delete(key);
        } else {
            usage.put(key, next);
        }
        BillingCycle cycle = BillingCycle.of(day.date());
        String cycleKey = StoreKeys.cycle(accountId, cycle);
        CycleState state = cycles.get(cycleKey);
        if (state == null) {
            cycles.put(cycleKey, CycleState.open());
        }
        // open: due when the cycle closes; closed: due an adjustment interval after its last statement (whatever the
        // grace is now: a grace raised since the close must not hold the adjustment back), and repeated changes
        // share this one entry
        Instant dueAt = state != null && state.closed() ? state.nextAdjustmentAt(cycle.end(), adjustmentInterval)
                : cycle.closesAt(closeGrace);
        pending.put(StoreKeys.pending(dueAt, accountId, cycle), cycleKey);
    }

    private void credential(String accountId, BillingInput.CredentialNamed event) {
        String key = StoreKeys.credential(accountId, event.credentialId());
        CredentialInfo known = credentials.get(key);
        if (event.deleted()) {
            credentials.put(key, new CredentialInfo(known == null ? null : known.name(),
                    known == null ? null : known.createdAt(), event.at()));
        } else {
            credentials.put(key, new CredentialInfo(event.name(), event.at(), known == null ? null : known.deletedAt()));
        }
    }

    private void settleDue(long now) {
        long deadline = System.nanoTime() + limits.settleBudget().toNanos();
        List<KeyValue<String, String>> due = new ArrayList<>();
        boolean moreDue = false;
        try (KeyValueIterator<String, String> all = pending.all()) {
            while (all.hasNext()) {
                KeyValue<String, String> entry = all.next();
                if (StoreKeys.pendingDueAt(entry.key) > now) {
                    break; // keys are sorted by due time
                }
                if (due.size() == limits.maxSettledPerPunctuation()) {
                    moreDue = true; // left for the next punctuation
                    break;
                }
                due.add(entry);
            }
        }
        // read up to: the input's own time, or now when none has come for a while
        long readUpTo = now - lastInputAt >= limits.idle().toMillis() ? now : Math.min(now, context.currentStreamTimeMs());
        if (waitingSince >= 0 && readUpTo >= waitingFor) {
            waitingSince = -1; // the input has caught up with the final that waited
        }
        boolean waitedLongEnough = waitingSince >= 0 && now - waitingSince >= limits.maxCatchUp().toMillis();
        long firstWaiting = -1;
        int looked = 0;
        for (KeyValue<String, String> entry : due) {
            String[] accountAndCycle = StoreKeys.pendingAccountAndCycle(entry.key);
            long dueAt = StoreKeys.pendingDueAt(entry.key);
            // read as stored, not as a caller's cycle parameter: bounds added later must not fail a stored entry
            if (settle(accountAndCycle[0], new BillingCycle(YearMonth.parse(accountAndCycle[1])),
                    Instant.ofEpochMilli(now), waitedLongEnough || dueAt <= readUpTo)) {
                pending.delete(entry.key);
            } else if (firstWaiting < 0) {
                firstWaiting = dueAt;
            }
            looked++;
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        boolean sawAllDue = !moreDue && looked == due.size();
        waitFor(firstWaiting, sawAllDue, now);
    }

    /**
     * Keeps the time since which a final has waited for the input. Only a punctuation that looked at everything due
     * and found nothing waiting ends the wait: one that stopped on its budget or count before reaching the waiting
     * final (a flood of adjustments for older cycles sorts first) must not restart the cap, or it could be put off
     * for as long as the flood lasts. Reading the input up to the waiting final's close ends the wait too.
     */
    private void waitFor(long firstWaiting, boolean sawAllDue, long now) {
        if (firstWaiting >= 0 && waitingSince < 0) {
            waitingSince = now;
            waitingFor = firstWaiting;
        } else if (firstWaiting < 0 && sawAllDue) {
            waitingSince = -1;
        }
    }

    /**
     * Issues what the cycle is due: its final statement, once the input is read up to its close ({@code caughtUp});
     * or an adjustment. False when it must wait (it stays pending).
     */
    private boolean settle(String accountId, BillingCycle cycle, Instant now, boolean caughtUp) {
        String cycleKey = StoreKeys.cycle(accountId, cycle);
        CycleState state = Objects.requireNonNullElse(cycles.get(cycleKey), CycleState.open());
        // to the millisecond, as the pending key holds it: a grace with a fraction of one re-put the entry being
        // settled under its own key, which the caller then deleted
        Instant closes = Instant.ofEpochMilli(cycle.closesAt(closeGrace).toEpochMilli());
        if (!state.closed() && now.isBefore(closes)) {
            // queued under a shorter grace: one raised since (an operator holding bills while metering lags) holds
            // the close back to it, as it does the report's status
            pending.put(StoreKeys.pending(closes, accountId, cycle), cycleKey);
            return true;
        }
        if (!state.closed() && !caughtUp) {
            return false;
        }
        Map<String, Totals> totals = totalsByService(accountId, cycle);
        if (!state.closed() && totals.isEmpty()) {
            cycles.delete(cycleKey); // every day went back to zero: no usage, so no statement, as for an idle account
            return true;
        }
        if (!state.closed()) {
            issue(accountId, cycle, state.statements(), calculator.finalStatement(accountId, cycle, totals, now));
            cycles.put(cycleKey, state.closedWith(calculator.linesByService(totals), calculator.prices(), now));
        } else {
            Instant next = Instant.ofEpochMilli(state.nextAdjustmentAt(cycle.end(), adjustmentInterval).toEpochMilli());
            if (now.isBefore(next)) {
                // a close queued under another grace, come due after the final: the adjustment waits its interval
                pending.put(StoreKeys.pending(next, accountId, cycle), cycleKey);
                return true;
            }
            // priced as the final was: a catalog changed since must not re-price what was billed
            StatementCalculator closedAt = calculator.at(state.prices());
            Map<String, StatementLine> lines = closedAt.linesByService(totals);
            closedAt.adjustment(accountId, cycle, state.adjustments() + 1, state.billed(), lines, now)
                    .ifPresent(adjustment -> {
                        issue(accountId, cycle, state.statements(), adjustment);
                        cycles.put(cycleKey, state.adjustedTo(lines, now));
                    });
        }
        return true;
    }

    private Map<String, Totals> totalsByService(String accountId, BillingCycle cycle) {
        Map<String, Totals> totals = new TreeMap<>();
        try (KeyValueIterator<String, Totals> days = usage.prefixScan(StoreKeys.cyclePrefix(accountId, cycle), KEYS)) {
            while (days.hasNext()) {
                KeyValue<String, Totals> day = days.next();
                totals.merge(StoreKeys.UsageKey.parse(day.key).service(), day.value, Totals::plus);
            }
        }
        return totals;
    }

    private void issue(String accountId, BillingCycle cycle, int sequence, Statement statement) {
        statements.put(StoreKeys.statement(accountId, cycle, sequence), statement);
        context.forward(new Record<>(statement.statementId(), statement, statement.issuedAt().toEpochMilli()));
        log.info("Issued statement {} ({}, {} {})", statement.statementId(), statement.kind(),
                statement.amountDue().toPlainString(), statement.currency());
    }
}
