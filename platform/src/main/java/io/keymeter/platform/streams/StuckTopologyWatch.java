package io.keymeter.platform.streams;

import io.keymeter.platform.PeriodicTask;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.EmbeddedKafkaConfiguration;
import io.keymeter.platform.kafka.KafkaClients;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Says in the log why a topology stays out of RUNNING when a transaction left open on its group's offsets partition
 * is the reason. Kafka's own log says only, every minute, that "the last committed offset ... could not be
 * determined". A probe saw metering so for good after a restart (1 of 19): the broker held a transaction open that
 * its coordinator had completed, a hanging transaction, which only an abort ends. This names the transaction, says
 * whether it hangs, and gives the command that ends it; it aborts nothing itself, which is the operator's call.
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

    /** The transactions open on a group's offsets partition ({@link OpenTransactions#onOffsetsOf}). */
    interface Finder {
        List<OpenTransaction> onOffsetsOf(String group) throws Exception;
    }

    /** A topology as this watch sees it: its name, its group, its state now. */
    record Watched(String name, String group, Supplier<KafkaStreams.State> state) {
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
        this(watched, new OpenTransactions(admin, clock, Duration.ofSeconds(10))::onOffsetsOf, clock,
                bootstrapServers, commandConfig, admin);
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
        return new Watched(app.name(), StreamsFactory.applicationId(app.name()), app::state);
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
     * a topology. Returns what it logged.
     */
    synchronized List<String> check() {
        Instant now = clock.instant();
        List<String> warnings = new ArrayList<>();
        for (Watched topology : watched) {
            KafkaStreams.State state = topology.state().get();
            if (state != KafkaStreams.State.REBALANCING) {
                rebalancingSince.remove(topology.name()); // RUNNING, or not started or stopped: health says why
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
        String what = name + " has been " + state + " for " + rebalancing.toMinutes() + " min, and "
                + transaction.describe() + ". Until it ends, " + name + " cannot read its committed offsets. ";
        return what + (transaction.hanging()
                ? "It hangs: nothing will end it but an abort, `" + transaction.abortCommand(bootstrapServers,
                        commandConfig) + "` (README: \"A topology that stays REBALANCING\")."
                : "Its producer may still end it, or its coordinator" + transaction.coordinatorView()
                        .flatMap(OpenTransaction.CoordinatorView::timesOutAt).map(at -> " at its timeout, " + at)
                        .orElse(" at its timeout") + ".");
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
