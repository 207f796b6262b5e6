package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.AllPartitions;
import io.keymeter.platform.kafka.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The latest state of every API key, held in memory: one consumer assigned to all partitions of
 * {@code keymeter.api-keys}, including partitions added later (no group, read_committed), tails the topic into a
 * map. Every instance therefore answers for every key, and {@code /v1/verify} never makes a network call.
 * Invalidation reaches it as soon as the credential store's write is committed.
 */
@Component
public class KeyStateCache implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(KeyStateCache.class);

    /** How long the reader may fail before verify stops answering from what it holds. */
    static final Duration STALE_AFTER = Duration.ofSeconds(5);

    private final Map<String, Object> consumerConfig;
    private final Map<String, ApiKeyState> keys = new ConcurrentHashMap<>();
    private final KeyStateInterner interner = new KeyStateInterner();
    private volatile boolean caughtUp;
    /** nanoTime of the first of the failures since the last good poll; 0 while reading. */
    private volatile long failingSince;
    /** Set when the reader ended while the cache was meant to run (an error it could not survive). */
    private volatile boolean stopped;
    private volatile boolean running;
    private volatile Consumer<String, byte[]> consumer;
    private Thread thread;

    public KeyStateCache(KafkaClients clients) {
        Map<String, Object> config = clients.consumer("keymeter-metering-verify");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        AllPartitions.configure(config);
        this.consumerConfig = config;
    }

    /** The latest state of a key, or null when no such key was ever published (or it was deleted). */
    public ApiKeyState get(String keyId) {
        return keys.get(keyId);
    }

    /** True once everything on the topic at start-up has been read: before that, an answer could be stale. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /**
     * True when answers may be given from this cache: caught up, its reader alive, and not failing to read for
     * {@link #STALE_AFTER} or longer. A reader that cannot read the topic (its ACL removed, a broken fetch) restarts
     * every second; before, verify went on answering from the states it held, so an invalidated key kept verifying
     * valid while the cache could not learn of it. (A broker that does not answer is not a failure here: the
     * consumer waits, no invalidation can be committed meanwhile, and verify keeps answering.)
     */
    public boolean current() {
        long since = failingSince;
        return caughtUp && !stopped && (since == 0 || System.nanoTime() - since < STALE_AFTER.toNanos());
    }

    public int size() {
        return keys.size();
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "keymeter-verify-keys");
        thread.setDaemon(true);
        thread.start();
    }

    /** Tails the topic; after a failure starts over with a fresh consumer (replaying states is harmless). */
    private void run() {
        try {
            while (running) {
                try (Consumer<String, byte[]> c = newConsumer(consumerConfig)) {
                    consumer = c;
                    if (!running) {
                        return;
                    }
                    tail(c);
                } catch (WakeupException e) {
                    return; // stopping
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    if (failingSince == 0) {
                        failingSince = System.nanoTime();
                    }
                    log.error("Verify cache failed reading {}; starting over", Topics.API_KEYS.name(), e);
                    LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
                }
            }
        } finally {
            if (running) {
                stopped = true;
                log.error("Verify cache stopped reading {}; verify answers 503 until a restart", Topics.API_KEYS.name());
            }
        }
    }

    /** The reader's consumer; a test gives one that fails. */
    Consumer<String, byte[]> newConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private void tail(Consumer<String, byte[]> c) {
        AllPartitions all = new AllPartitions(Topics.API_KEYS.name());
        List<TopicPartition> partitions = all.assign(c, Duration.ofSeconds(60));
        c.seekToBeginning(partitions);
        Map<TopicPartition, Long> startupEnd = c.endOffsets(partitions);
        while (running) {
            for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(500))) {
                apply(record);
            }
            failingSince = 0;
            // states of keys hashed to a partition added later are sent there: without this, never seen
            all.follow(c);
            if (!caughtUp && startupEnd.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
                caughtUp = true;
                log.info("Verify cache caught up with {}: {} keys", Topics.API_KEYS.name(), keys.size());
            }
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            return;
        }
        if (record.value() == null) {
            keys.remove(record.key());
            return;
        }
        ApiKeyState state;
        try {
            state = interner.intern(Topics.API_KEYS.valueSerde().deserializer().deserialize(record.topic(), record.value()));
        } catch (RuntimeException e) {
            log.warn("Skipping unreadable key state at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return;
        }
        // the state's own keyId as the map key when they agree: one copy of the string per key, not two
        String keyId = record.key().equals(state.keyId()) ? state.keyId() : record.key();
        // like the versioned store: an update stamped earlier than what we hold does not replace it
        keys.merge(keyId, state, (held, next) ->
                held.updatedAt() != null && next.updatedAt() != null && next.updatedAt().isBefore(held.updatedAt())
                        ? held : next);
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        Consumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
