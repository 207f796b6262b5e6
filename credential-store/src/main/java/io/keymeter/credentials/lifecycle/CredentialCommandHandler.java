package io.keymeter.credentials.lifecycle;

import io.keymeter.platform.streams.RunningPartitions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the credentials of its partition: decides each command against the stored aggregate, saves
 * the new state and forwards events, key states and the reply, all inside the task's exactly-once transaction. A
 * wall-clock punctuator publishes expirations without waiting for any request; it reads only the credentials the
 * {@link ExpiryIndex} says are due, and at most {@link #MAX_CHECKS_PER_PUNCTUATION} of them, because it runs on the
 * stream thread and every command waits while it runs. A second one removes the keys {@link KeyRemovals} says have
 * been dead long enough.
 * <p>
 * Its task's partition counts as running ({@link RunningPartitions}, which the HTTP reads consult) from the end of
 * {@link #init}, once the task is restored and the account index rebuilt, until {@link #close}: Kafka Streams also
 * answers interactive queries from a task being restored again after a corruption, its store wiped.
 */
final class CredentialCommandHandler implements Processor<String, CredentialCommand, String, LifecycleOutput> {

    private static final Logger log = LoggerFactory.getLogger(CredentialCommandHandler.class);
    /** More due at once (a mass expiry) are left for the next punctuation, a second later. */
    static final int MAX_CHECKS_PER_PUNCTUATION = 200;
    /** Dead keys removed in one punctuation at most; the rest a second later. */
    static final int MAX_REMOVALS_PER_PUNCTUATION = 1_000;
    /** A clock further behind a credential's last change than this is reported: NTP keeps hosts far closer. */
    static final Duration CLOCK_BEHIND_WARNING = Duration.ofMinutes(1);

    private final CredentialDecider decider;
    private final Duration expiryCheckInterval;
    private final Duration forgetAfter;
    private final RunningPartitions runningPartitions;
    /** The configured accounts, null when not known: active keys of others are warned of at start. */
    private final ConfiguredAccounts accounts;
    private RunningPartitions.Registration running;
    private ProcessorContext<String, LifecycleOutput> context;
    private KeyValueStore<String, Credential> store;
    private ExpiryIndex expiryIndex;
    private AccountIndex accountIndex;
    private KeyRemovals keyRemovals;
    private long lastClockWarningMs;

    CredentialCommandHandler(CredentialDecider decider, Duration expiryCheckInterval, Duration forgetAfter) {
        this(decider, expiryCheckInterval, forgetAfter, new RunningPartitions());
    }

    CredentialCommandHandler(CredentialDecider decider, Duration expiryCheckInterval, Duration forgetAfter,
                             RunningPartitions runningPartitions) {
        this(decider, expiryCheckInterval, forgetAfter, runningPartitions, null);
    }

    CredentialCommandHandler(CredentialDecider decider, Duration expiryCheckInterval, Duration forgetAfter,
                             RunningPartitions runningPartitions, ConfiguredAccounts accounts) {
        this.accounts = accounts;
        this.decider = decider;
        this.expiryCheckInterval = expiryCheckInterval;
        this.forgetAfter = forgetAfter;
        this.runningPartitions = runningPartitions;
    }

    @Override
    public void init(ProcessorContext<String, LifecycleOutput> context) {
        this.context = context;
        this.store = context.getStateStore(CredentialTopology.STORE);
        KeyValueStore<String, String> expiryStore = context.getStateStore(CredentialTopology.EXPIRY_INDEX);
        KeyValueStore<String, String> accountStore = context.getStateStore(CredentialTopology.ACCOUNT_INDEX);
        this.expiryIndex = new ExpiryIndex(expiryStore, decider);
        this.accountIndex = new AccountIndex(accountStore);
        this.keyRemovals = new KeyRemovals(context.getStateStore(CredentialTopology.KEY_REMOVALS), forgetAfter);
        rebuildIndexes(expiryStore, accountStore);
        context.schedule(expiryCheckInterval, PunctuationType.WALL_CLOCK_TIME, this::checkExpiry);
        context.schedule(expiryCheckInterval, PunctuationType.WALL_CLOCK_TIME, this::removeDeadKeys);
        // last: the stores are restored and the index rebuilt, reads of this partition may go on
        running = runningPartitions.started(context.taskId().partition());
    }

    /** What this handler checks its stored credentials against at start; null: nothing. */
    ConfiguredAccounts accounts() {
        return accounts;
    }

    /** The task is suspended or closed (also dirty, on a corruption, before its store is wiped and restored). */
    @Override
    public void close() {
        if (running != null) { // closing it again, on a later close, counts once
            running.close();
        }
    }

    /**
     * The indexes are derived data, not logged: whatever a previous run left (perhaps after a crash, or written while
     * the task was elsewhere) is dropped, and every stored credential indexed again, in one scan.
     */
    private void rebuildIndexes(KeyValueStore<String, String> expiryStore, KeyValueStore<String, String> accountStore) {
        // store iterators are safe from concurrent modification (KeyValueStore contract): no key list in memory
        for (KeyValueStore<String, String> index : List.of(expiryStore, accountStore)) {
            try (KeyValueIterator<String, String> all = index.all()) {
                all.forEachRemaining(entry -> index.delete(entry.key));
            }
        }
        UnconfiguredAccounts unconfigured = accounts == null ? null
                : new UnconfiguredAccounts(accounts.ids(), accounts.clock().instant());
        try (KeyValueIterator<String, Credential> all = store.all()) {
            all.forEachRemaining(entry -> {
                expiryIndex.update(entry.key, null, entry.value);
                accountIndex.update(entry.key, null, entry.value);
                if (unconfigured != null) {
                    unconfigured.add(entry.value);
                }
            });
        }
        if (unconfigured != null) {
            unconfigured.warning(context.taskId().partition()).ifPresent(log::warn);
        }
    }

    @Override
    public void process(Record<String, CredentialCommand> command) {
        if (command.key() == null || command.value() == null) {
            // not written by CommandBus (which always sets both): nobody waits for it, nothing to apply
            log.warn("Ignoring a credential command without key or value at offset {} of partition {}",
                    context.recordMetadata().map(m -> m.offset()).orElse(-1L),
                    context.recordMetadata().map(m -> m.partition()).orElse(-1));
            return;
        }
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        Credential before = store.get(command.key());
        warnIfClockBehind(before, now);
        Decision decision = decider.decide(before, command.value(), now);
        save(command.key(), before, decision, now);
        context.forward(new Record<>(decision.reply().commandId(), new LifecycleOutput.Reply(decision.reply()),
                now.toEpochMilli()));
    }

    private void checkExpiry(long wallClockMs) {
        Instant now = Instant.ofEpochMilli(wallClockMs);
        // the due ids first, then the saves, each of which moves its own credential's index entry
        for (String credentialId : expiryIndex.due(now, MAX_CHECKS_PER_PUNCTUATION)) {
            Credential before = store.get(credentialId);
            warnIfClockBehind(before, now);
            save(credentialId, before, decider.checkExpiry(before, now), now);
        }
    }

    /**
     * Tombstones for the keys dead for {@code forget-after}, stamped now: after the key's last state, which they
     * follow by at least that long, so every reader takes them as its newest record.
     */
    private void removeDeadKeys(long wallClockMs) {
        for (String keyId : keyRemovals.takeDue(Instant.ofEpochMilli(wallClockMs), MAX_REMOVALS_PER_PUNCTUATION)) {
            context.forward(new Record<>(keyId, new LifecycleOutput.KeyRemoved(keyId), wallClockMs));
        }
    }

    /**
     * Changes are stamped after the credential's last change ({@link CredentialDecider#changeTime}), so a clock far
     * behind it makes keys change later in request time than they do in fact (and one far ahead, before): said at
     * most once a minute, since every command of such a credential would say it.
     */
    private void warnIfClockBehind(Credential before, Instant now) {
        if (before == null || !before.updatedAt().isAfter(now.plus(CLOCK_BEHIND_WARNING))
                || now.toEpochMilli() - lastClockWarningMs < CLOCK_BEHIND_WARNING.toMillis()) {
            return;
        }
        lastClockWarningMs = now.toEpochMilli();
        log.warn("This instance's clock ({}) is {} behind the last change of credential {} ({}): its changes are "
                        + "stamped just after that one, so they take effect later in request time than they are made. "
                        + "Check the clocks of the credential-store hosts (NTP).", now,
                Duration.between(now, before.updatedAt()), before.id(), before.updatedAt());
    }

    private void save(String credentialId, Credential before, Decision decision, Instant now) {
        if (!decision.changed()) {
            return;
        }
        expiryIndex.update(credentialId, before, decision.state());
        accountIndex.update(credentialId, before, decision.state());
        if (decision.state() == null) {
            store.delete(credentialId);
        } else {
            store.put(credentialId, decision.state());
        }
        decision.events().forEach(e ->
                context.forward(new Record<>(e.credentialId(), new LifecycleOutput.Event(e), e.at().toEpochMilli())));
        // record time = event time, so a versioned table over keymeter.api-keys keeps each key's history
        decision.keyStates().forEach(s -> {
            context.forward(new Record<>(s.keyId(), new LifecycleOutput.KeyState(s), s.updatedAt().toEpochMilli()));
            keyRemovals.scheduleIfDead(s);
        });
    }
}
