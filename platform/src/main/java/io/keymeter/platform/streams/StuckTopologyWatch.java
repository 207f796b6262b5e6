package io.keymeter.platform.streams;

import io.keymeter.platform.PeriodicTask;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.EmbeddedKafkaConfiguration;
import io.keymeter.platform.kafka.KafkaClients;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Says in the log when a transaction left open holds a topology up, which Kafka's own log does not say plainly.
 * <ul>
 * <li>On its group's offsets partition, the topology stays out of RUNNING: Kafka logs only, every minute, that "the
 * last committed offset ... could not be determined". A probe saw metering so for good after a restart (1 of 19):
 * the broker held a transaction open that its coordinator had completed, a hanging transaction, which only an abort
 * ends.</li>
 * <li>On a partition the topology reads, it stays RUNNING and reads nothing there from the transaction's first
 * record on (read_committed), committed or not: requests wait unbilled, key changes unenforced, and nothing in the
 * log says why.</li>
 * </ul>
 * This names the transaction, says whether it hangs, and gives the command that ends it; it aborts nothing itself,
 * which is the operator's call.
 */
@Component
public class StuckTopologyWatch implements DisposableBean {

    static final Duration INTERVAL = Duration.ofSeconds(30);
    static final Duration STUCK_AFTER = Duration.ofMinutes(2);
    static final Duration WARN_EVERY = Duration.ofMinutes(10);
    /**
     * A transaction named must not have been written to for this long. A topology's transactions last about a
     * commit interval (Kafka Streams' transaction timeout is 10 s), so one this quiet is stuck; another instance's,
     * open for a moment as it commits, is not what holds this one up.
     */
    static final Duration QUIET_FOR = Duration.ofMinutes(1);
    private static final Logger LOG = LoggerFactory.getLogger(StuckTopologyWatch.class);

    /** Open transactions, as {@link OpenTransactions} finds them. */
    interface Finder {
        /** Those on a group's offsets partition. */
        List<OpenTransaction> onOffsetsOf(String group) throws Exception;

        /** Those on the given partitions. */
        List<OpenTransaction> on(Collection<TopicPartition> partitions) throws Exception;
    }

    /**
     * A topology as this watch sees it: its name, its group, its state now, and the partitions this instance's tasks
     * of it read now.
     */
    record Watched(String name, String group, Supplier<KafkaStreams.State> state,
                   Supplier<Set<TopicPartition>> reads) {
    }

    /** A transaction open on a partition a topology reads, as seen first by this watch. */
    private record Held(String topology, TopicPartition partition, long producerId, long startOffset) {

        static Held of(String topology, OpenTransaction transaction) {
            return new Held(topology, transaction.partition(), transaction.producerId(), transaction.startOffset());
        }
    }

    /** When a held transaction was first seen, and last warned of (null: not yet). */
    private record Seen(Instant since, Instant warnedAt) {
    }

    private final List<Watched> watched;
    private final Finder finder;
    private final Clock clock;
    private final String bootstrapServers;
    private final Optional<String> commandConfig;
    private final Admin admin;
    private final PeriodicTask schedule;
    private final Map<String, Instant> rebalancingSince = new HashMap<>();
    private final Map<String, Instant> warnedAt = new HashMap<>();
    private final Map<Held, Seen> held = new HashMap<>();

    @Autowired
    StuckTopologyWatch(List<StreamsApp> apps, KafkaClients clients, Clock clock, KeymeterProperties properties,
                       @Value("${" + KafkaClients.CLIENT_PROPERTIES + ":}") String clientProperties) {
        this(apps.stream().map(StuckTopologyWatch::watched).toList(), apps.isEmpty() ? null : clients.newAdmin(), clock,
                clients.bootstrapServers(), clients.embedded()
                        ? Optional.of(properties.dataDir().resolve(EmbeddedKafkaConfiguration.CLIENT_PROPERTIES)
                                .toString())
                        : Optional.of(clientProperties.strip()).filter(file -> !file.isEmpty()));
    }

    private StuckTopologyWatch(List<Watched> watched, Admin admin, Clock clock, String bootstrapServers,
                               Optional<String> commandConfig) {
        this(watched, new OpenTransactions(admin, clock, Duration.ofSeconds(10)), clock, bootstrapServers,
                commandConfig, admin);
    }

    /** {@code admin}, if any, is closed with this. Nothing is scheduled without it: a test checks by hand. */
    StuckTopologyWatch(List<Watched> watched, Finder finder, Clock clock, String bootstrapServers,
                       Optional<String> commandConfig, Admin admin) {
        this.watched = watched;
        this.finder = finder;
        this.clock = clock;
        this.bootstrapServers = bootstrapServers;
        this.commandConfig = commandConfig;
        this.admin = admin;
        this.schedule = admin == null || watched.isEmpty() ? null
                : new PeriodicTask("keymeter-stuck-topology-watch", INTERVAL, INTERVAL, this::checkQuietly);
    }

    private static Watched watched(StreamsApp app) {
        return new Watched(app.name(), StreamsFactory.applicationId(app.name()), app::state, app::activeInputs);
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            LOG.debug("Could not check for open transactions: {}", e.toString());
        }
    }

    /**
     * Looks at each topology: one REBALANCING for {@link #STUCK_AFTER} has its group's offsets partition searched,
     * and each transaction open there and quiet for {@link #QUIET_FOR} is logged, at most every {@link #WARN_EVERY}
     * a topology; one RUNNING has the partitions it reads here searched, and each transaction found open on one of
     * them, from the same offset, for {@link #STUCK_AFTER} is logged, at most every {@link #WARN_EVERY} each.
     * Returns what it logged.
     */
    synchronized List<String> check() {
        Instant now = clock.instant();
        List<String> warnings = new ArrayList<>();
        for (Watched topology : watched) {
            KafkaStreams.State state = topology.state().get();
            if (state == KafkaStreams.State.RUNNING) {
                warnings.addAll(heldReads(topology, now));
            } else if (state != KafkaStreams.State.REBALANCING) {
                forgetHeld(topology.name(), Set.of()); // not started or stopped: health says why
            }
            if (state != KafkaStreams.State.REBALANCING) {
                rebalancingSince.remove(topology.name());
                warnedAt.remove(topology.name());
                continue;
            }
            Instant since = rebalancingSince.computeIfAbsent(topology.name(), name -> now);
            Instant warned = warnedAt.get(topology.name());
            if (now.isBefore(since.plus(STUCK_AFTER)) || warned != null && now.isBefore(warned.plus(WARN_EVERY))) {
                continue;
            }
            List<String> found = warningsFor(topology, state, Duration.between(since, now));
            if (!found.isEmpty()) {
                found.forEach(LOG::warn);
                warnings.addAll(found);
                warnedAt.put(topology.name(), now);
            }
        }
        return warnings;
    }

    /**
     * The warnings for transactions open on partitions {@code topology} reads here since {@link #STUCK_AFTER} ago.
     * A transaction is told apart by where it started, not by its last write's time, which on a partition of
     * requests is the request's own.
     */
    private List<String> heldReads(Watched topology, Instant now) {
        List<OpenTransaction> open;
        try {
            open = finder.on(topology.reads().get());
        } catch (Exception e) {
            LOG.debug("Could not look for transactions open on what {} reads: {}", topology.name(), e.toString());
            return List.of();
        }
        Set<Held> current = new HashSet<>();
        List<String> warnings = new ArrayList<>();
        for (OpenTransaction transaction : open) {
            Held key = Held.of(topology.name(), transaction);
            current.add(key);
            Seen seen = held.computeIfAbsent(key, first -> new Seen(now, null));
            if (!now.isBefore(seen.since().plus(STUCK_AFTER))
                    && (seen.warnedAt() == null || !now.isBefore(seen.warnedAt().plus(WARN_EVERY)))) {
                String warning = heldWarning(topology.name(), Duration.between(seen.since(), now), transaction);
                LOG.warn(warning);
                warnings.add(warning);
                held.put(key, new Seen(seen.since(), now));
            }
        }
        forgetHeld(topology.name(), current);
        return warnings;
    }

    /** Forgets the transactions held on {@code topology}'s partitions other than {@code current}: they ended. */
    private void forgetHeld(String topology, Set<Held> current) {
        held.keySet().removeIf(key -> key.topology().equals(topology) && !current.contains(key));
    }

    private String heldWarning(String name, Duration open, OpenTransaction transaction) {
        return name + " reads " + transaction.partition() + " no further than offset " + transaction.startOffset()
                + ": " + transaction.whose() + " has been open there from that offset for at least " + open.toMinutes()
                + " min; " + transaction.coordinatorSays() + ". Until it ends, the records after it wait, committed or"
                + " not. " + ending(transaction, open, "A partition a topology reads no further");
    }

    private List<String> warningsFor(Watched topology, KafkaStreams.State state, Duration rebalancing) {
        List<OpenTransaction> open;
        try {
            open = finder.onOffsetsOf(topology.group());
        } catch (Exception e) {
            LOG.debug("Could not look for transactions open on {}'s offsets: {}", topology.name(), e.toString());
            return List.of();
        }
        return open.stream().filter(transaction -> transaction.mayHoldOffsetsOf(topology.group()))
                .filter(transaction -> transaction.sinceLastWrite().compareTo(QUIET_FOR) >= 0)
                .map(transaction -> warning(topology.name(), state, rebalancing, transaction)).toList();
    }

    private String warning(String name, KafkaStreams.State state, Duration rebalancing, OpenTransaction transaction) {
        return name + " has been " + state + " for " + rebalancing.toMinutes() + " min, and "
                + transaction.describe() + ". Until it ends, " + name + " cannot read its committed offsets. "
                + ending(transaction, transaction.sinceLastWrite(), "A topology that stays REBALANCING");
    }

    /**
     * What ends {@code transaction}, open at least {@code openFor}: an abort, for a hanging one (README section
     * {@code readme}), else its producer or its coordinator's timeout.
     */
    private String ending(OpenTransaction transaction, Duration openFor, String readme) {
        String abort = "`" + transaction.abortCommand(bootstrapServers, commandConfig) + "` (README: \"" + readme
                + "\")";
        if (transaction.hanging(openFor)) {
            return "It hangs: nothing will end it but an abort, " + abort + ".";
        }
        if (transaction.coordinatorView().isEmpty()) {
            return "Keymeter may not be allowed to describe that producer; if the transaction is still open "
                    + OpenTransaction.LONGEST_TIMEOUT.toMinutes() + " minutes after it began (the brokers' "
                    + "transaction.max.timeout.ms by default), it hangs, and " + abort + " ends it.";
        }
        return "Its producer may still end it, or its coordinator" + transaction.coordinatorView()
                .flatMap(OpenTransaction.CoordinatorView::timesOutAt).map(at -> " at its timeout, " + at)
                .orElse(" at its timeout") + ".";
    }

    @Override
    public void destroy() {
        if (schedule != null) {
            schedule.close();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
