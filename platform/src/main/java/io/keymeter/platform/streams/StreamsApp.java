package io.keymeter.platform.streams;

import io.keymeter.platform.LifecyclePhases;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * One Kafka Streams application of a role, started and stopped with the Spring context. Health reports it UP only
 * while it is RUNNING; its metrics are on {@code /actuator/prometheus}. A failed stream thread is replaced, unless
 * a topic it reads changed under it ({@link TopicChange}) or threads keep failing ({@link #onThreadFailure}): then
 * the application shuts down.
 */
public final class StreamsApp implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(StreamsApp.class);

    private final String name;
    private final Topology topology;
    private final Properties config;
    private final MeterRegistry meterRegistry;
    private volatile KafkaStreams streams;
    private KafkaStreamsMetrics metrics;
    private volatile ReplacedMemberRemover remover;
    private volatile String stoppedBecause;
    private final Supplier<Optional<String>> startCheck;
    /** Punctuations that failed lately, noted by the dead-letter handlers of this application's tasks. */
    private final PunctuationFailures punctuationFailures = new PunctuationFailures();
    /** When stream threads failed lately (nanoTime), oldest first. */
    private final Deque<Long> recentFailures = new ArrayDeque<>();

    /** Failures within {@link #FAILURE_WINDOW} that stop the application instead of replacing its thread again. */
    static final int MAX_FAILURES = 5;
    static final Duration FAILURE_WINDOW = Duration.ofMinutes(10);

    StreamsApp(String name, Topology topology, Properties config, MeterRegistry meterRegistry) {
        this(name, topology, config, meterRegistry, Optional::empty);
    }

    /**
     * {@code startCheck} runs just before each start and says why the topology must not start, if it must not: the
     * factory's prepares the topics and checks them ({@link StreamsFactory}).
     */
    StreamsApp(String name, Topology topology, Properties config, MeterRegistry meterRegistry,
               Supplier<Optional<String>> startCheck) {
        this.name = name;
        this.topology = topology;
        this.config = config;
        this.meterRegistry = meterRegistry;
        this.startCheck = startCheck;
    }

    public String name() {
        return name;
    }

    public Topology topology() {
        return topology;
    }

    /** A copy of the configuration this application runs with. */
    public Properties config() {
        Properties copy = new Properties();
        copy.putAll(config);
        return copy;
    }

    public KafkaStreams.State state() {
        KafkaStreams current = streams;
        if (current == null) {
            return stoppedBecause == null ? KafkaStreams.State.CREATED : KafkaStreams.State.ERROR;
        }
        return current.state();
    }

    /**
     * The partitions this instance's active tasks read now (their source partitions); none while it is neither
     * RUNNING nor REBALANCING.
     */
    public Set<TopicPartition> activeInputs() {
        KafkaStreams current = streams;
        if (current == null) {
            return Set.of();
        }
        try {
            return current.metadataForLocalThreads().stream().flatMap(thread -> thread.activeTasks().stream())
                    .flatMap(task -> task.topicPartitions().stream()).collect(Collectors.toUnmodifiableSet());
        } catch (StreamsException | IllegalStateException e) {
            return Set.of(); // starting or stopping
        }
    }

    /** The running Kafka Streams instance, for interactive queries. */
    public KafkaStreams kafkaStreams() {
        KafkaStreams current = streams;
        if (current == null) {
            throw new IllegalStateException(name + " is not started");
        }
        return current;
    }

    public <T> T store(StoreQueryParameters<T> parameters) {
        return kafkaStreams().store(parameters);
    }

    @Override
    public synchronized void start() {
        if (streams != null) {
            return;
        }
        stoppedBecause = null;
        synchronized (recentFailures) {
            recentFailures.clear();
        }
        Optional<String> refused = startCheck.get();
        if (refused.isPresent()) {
            stopFor(refused.get());
            return;
        }
        Properties running = config();
        running.put(PunctuationFailures.CONFIG, punctuationFailures);
        KafkaStreams created = new GuardedMetricsKafkaStreams(topology, running);
        remover = ReplacedMemberRemover.of(config).orElse(null);
        created.setUncaughtExceptionHandler(e -> onThreadFailure(e, System.nanoTime()));
        created.setStateListener((now, before) -> {
            log.info("Kafka Streams {}: {} -> {}", name, before, now);
            if (now == KafkaStreams.State.ERROR && remover != null) {
                remover.removeAllAfterShutdown();
            }
        });
        if (meterRegistry != null) {
            metrics = new KafkaStreamsMetrics(created);
            metrics.bindTo(meterRegistry);
        }
        streams = created;
        created.start();
    }

    /**
     * What to do about a stream thread that failed: replace it, unless a topic it reads changed under it, or threads
     * failed {@link #MAX_FAILURES} times within {@link #FAILURE_WINDOW}. A failure that comes back every time (a
     * record the sink always refuses, say) otherwise replaced threads for ever, health mostly UP between rebalances;
     * now the application shuts down and health says why. (A failing punctuation is the dead-letter handler's: it
     * does not fail the thread.)
     */
    StreamThreadExceptionResponse onThreadFailure(Throwable failure, long nowNanos) {
        Optional<String> topicChange = TopicChange.stopReason(name, failure);
        if (topicChange.isPresent()) {
            return stopFor(topicChange.get());
        }
        int recent;
        synchronized (recentFailures) { // not the app's lock: stop() holds that while its threads end
            recentFailures.addLast(nowNanos);
            while (nowNanos - recentFailures.peekFirst() > FAILURE_WINDOW.toNanos()) {
                recentFailures.removeFirst();
            }
            recent = recentFailures.size();
        }
        if (recent >= MAX_FAILURES) {
            log.error("Stream thread of {} failed", name, failure);
            return stopFor("Kafka Streams " + name + " stopped: its stream threads failed " + recent + " times within "
                    + FAILURE_WINDOW.toMinutes() + " minutes, the last with " + failure + " (see the log); restart"
                    + " Keymeter once the cause is fixed");
        }
        log.error("Stream thread of {} failed; replacing it ({} of {} failures allowed within {} minutes)", name,
                recent, MAX_FAILURES - 1, FAILURE_WINDOW.toMinutes(), failure);
        if (remover != null) {
            remover.removeWhenGone(Thread.currentThread());
        }
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /** Shuts the application down until a restart; logged once, however many of its threads fail this way. */
    private StreamThreadExceptionResponse stopFor(String reason) {
        if (stoppedBecause == null) {
            stoppedBecause = reason;
            log.error(reason);
        }
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    /** Why Keymeter shut this application down, or did not start it; empty while it runs as it should. */
    public Optional<String> stoppedBecause() {
        return Optional.ofNullable(stoppedBecause);
    }

    /**
     * The punctuations that failed within the last 10 minutes, a line each: one failing every time only left dead
     * letters and a sampled log line before; health shows these lines (and stays UP: processing goes on).
     */
    public List<String> failingPunctuations() {
        return punctuationFailures.recent(System.currentTimeMillis());
    }

    @Override
    public synchronized void stop() {
        KafkaStreams current = streams;
        if (current == null) {
            return;
        }
        // first: the binder reads every metric's value from its own thread, and a store being closed must not be read
        if (metrics != null) {
            metrics.close();
        }
        // a static member does not leave on close by default; a clean stop hands its partitions over at once
        current.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)));
        if (remover != null) {
            remover.close();
        }
        streams = null;
    }

    @Override
    public boolean isRunning() {
        return streams != null;
    }

    /** Started after the web server's port is known and the topics checked; stopped after the HTTP drain. */
    @Override
    public int getPhase() {
        return LifecyclePhases.BEHIND_WEB_SERVER;
    }
}
