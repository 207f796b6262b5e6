package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Topics;
import io.keymeter.platform.LifecyclePhases;
import io.keymeter.platform.SampledLog;
import io.keymeter.platform.kafka.AllPartitions;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.keys.LocalKeyStates;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The latest state of every API key, held in memory: one consumer assigned to all partitions of
 * {@code keymeter.api-keys}, including partitions added later (no group, read_committed), tails the topic into a
 * map. Every instance therefore answers for every key, and {@code /v1/verify} never makes a network call.
 * Invalidation reaches it as soon as the credential store's write is committed.
 * <p>
 * The cache is <em>current</em> while, within the last {@code keymeter.verify.max-staleness}, it has read up to the
 * topic's end as the broker gave it: every second it asks the broker for the end offsets and notes when its
 * positions reach them. A reader that fails (the topic unreadable, a broken fetch, the same bad batch every time),
 * or cannot reach the broker while others can, stops being current, and verify answers 503 instead of calling an
 * invalidated key valid. A failed reader starts over a second later with a new consumer at the positions it had
 * reached, so a restart rereads nothing.
 * <p>
 * A read_committed reader's end is the first record of the oldest transaction still open: a transaction left open
 * on a partition (its producer dead and its timeout not yet reached, or hanging for good) keeps every key state
 * behind it unread, invalidations included, while the cache seems at the end. So once caught up, a second reader
 * runs ahead, read_uncommitted, noting each key state the first has not read yet ({@link UnreadChanges}): a key
 * with one unread for {@link #UNREAD_AFTER} is not answered for ({@link #heldFor}: 503), the others are, and a
 * partition on which one has waited {@link #HELD_AFTER} is named in the log and in health. The cache is current only
 * while that reader too has polled past the end it asked for at its start within the max staleness; what it finds
 * unread below that end is taken as waiting since it was written. A log that goes back under the first reader (the
 * topic created again, a log truncated) stops verify until a restart.
 */
@Component
public class KeyStateCache implements SmartLifecycle, LocalKeyStates {

    private static final Logger log = LoggerFactory.getLogger(KeyStateCache.class);

    /** Property: how long ago the cache may last have been at the topic's end for verify to answer from it. */
    public static final String MAX_STALENESS = "keymeter.verify.max-staleness";
    /** How often the reader asks the broker for the end offsets. */
    static final Duration END_CHECK_INTERVAL = Duration.ofSeconds(1);
    /** How long the reader ahead waits for its end offsets at a start: not answered, it starts over (an ERROR). */
    private static final Duration AHEAD_ENDS_TIMEOUT = Duration.ofSeconds(30);
    /**
     * How long a key state seen ahead may stay unread, past the credential store's commit interval, before verify
     * stops answering for its key: a transaction being committed takes milliseconds, and a change's HTTP answer waits
     * up to a second for verify here to read it.
     */
    static final Duration UNREAD_AFTER = Duration.ofMillis(500);
    /**
     * How long a state may wait unread before its partition is named in the log and in health as held: well past a
     * transaction whose producer died (Kafka Streams' 10 s timeout, which its coordinator checks every 10 s).
     */
    static final Duration HELD_AFTER = Duration.ofSeconds(60);
    /** How many unread key states are tracked one by one; past it, no key is answered for until they are read. */
    static final int MAX_UNREAD = 100_000;

    private final Map<String, Object> consumerConfig;
    private final Duration maxStaleness;
    private final Map<String, ApiKeyState> keys = new ConcurrentHashMap<>();
    private final KeyStateInterner interner = new KeyStateInterner();
    /** Key states skipped as unreadable, and their log: a line, then at most one per 10 s (a flood of them). */
    private final AtomicLong unreadable = new AtomicLong();
    private final SampledLog skipped = new SampledLog(Clock.systemUTC(), log::warn);
    /** Next offset to read by partition, kept across the reader's consumers (reader thread only). */
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    private volatile boolean caughtUp;
    /** nanoTime at which the end offsets that the reader has since reached were asked for. */
    private volatile long currentAsOf;
    /** Why a reader ended on an error it could not survive; null while none has. */
    private volatile String stoppedBecause;
    private volatile boolean running;
    private volatile Consumer<String, byte[]> consumer;
    private volatile Thread thread;
    /** End-offset requests the broker has not answered in a row (reader thread only). */
    private int unanswered;
    private final Duration heldAfter;
    /** {@link #UNREAD_AFTER} past the credential store's commit interval: its transactions stay open that long. */
    private final Duration unreadAfter;
    private final UnreadChanges unread = new UnreadChanges(MAX_UNREAD);
    /** The partitions held {@link #HELD_AFTER}, with the reader's offset on each (see the class comment). */
    private volatile Map<TopicPartition, Long> held = Map.of();
    private volatile Consumer<String, Void> aheadConsumer;
    private volatile Thread ahead;
    /** Set once the reader ahead has read to the end the topic had when it started: until then verify cannot tell. */
    private volatile boolean aheadCaughtUp;
    /** nanoTime of the reader ahead's last poll past the end it asked for at its start. */
    private volatile long aheadPolledAt;

    @Autowired
    public KeyStateCache(KafkaClients clients, VerifySettings settings) {
        this(clients, settings, HELD_AFTER);
    }

    KeyStateCache(KafkaClients clients, VerifySettings settings, Duration heldAfter) {
        this.heldAfter = heldAfter;
        this.unreadAfter = UNREAD_AFTER.plus(settings.credentialsCommitInterval());
        Duration maxStaleness = settings.maxStaleness();
        Map<String, Object> config = clients.consumer("keymeter-metering-verify");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        AllPartitions.configure(config);
        this.consumerConfig = config;
        this.maxStaleness = maxStaleness;
    }

    /** How many key states this cache has skipped as unreadable (read again after a restart, counted again). */
    public long unreadableStates() {
        return unreadable.get();
    }

    /** The latest state of a key, or null when no such key was ever published (or it was deleted). */
    @Override
    public ApiKeyState get(String keyId) {
        return keys.get(keyId);
    }

    /**
     * True when answers may be given from this cache: caught up, its reader alive, and at the topic's end within
     * the max staleness (see the class comment). Before, verify answered from whatever the cache held once it had
     * caught up, however long its reader had been failing.
     */
    @Override
    public boolean current() {
        return notCurrentBecause().isEmpty();
    }

    /** Why the cache is not current, or empty when it is. */
    public Optional<String> notCurrentBecause() {
        String stopped = stoppedBecause;
        if (stopped != null) {
            return Optional.of(stopped);
        }
        if (!caughtUp || !aheadCaughtUp) {
            return Optional.of("loading key states");
        }
        if (!running) {
            return Optional.of("the key-state reader has stopped (Keymeter is stopping)");
        }
        long aheadBehind = System.nanoTime() - aheadPolledAt;
        if (aheadBehind >= maxStaleness.toNanos()) {
            return Optional.of("the key-state reader ahead has not read " + Topics.API_KEYS.name() + " for "
                    + Duration.ofNanos(aheadBehind).toSeconds() + " s: key states behind a transaction left open"
                    + " would go unnoticed");
        }
        long behind = System.nanoTime() - currentAsOf;
        return behind < maxStaleness.toNanos() ? Optional.empty()
                : Optional.of("not at the end of " + Topics.API_KEYS.name() + " for " + Duration.ofNanos(behind).toSeconds()
                        + " s (" + MAX_STALENESS + " " + maxStaleness + ")");
    }

    /**
     * Why {@code keyId} may not be answered for although the cache is current: a newer state of it, written to the
     * topic, has stayed unread for {@link #unreadAfter()} (see the class comment). Only such keys wait.
     */
    public Optional<String> heldFor(String keyId) {
        long now = System.nanoTime();
        Map<TopicPartition, Long> overflowed = unread.overflowed(unreadAfter, now);
        if (!overflowed.isEmpty()) {
            // each key's states no longer told apart: any key may have one waiting
            return Optional.of("more than " + MAX_UNREAD + " key states written to " + overflowed.keySet()
                    + " have stayed unread for over " + unreadAfter.toMillis() + " ms: a transaction left open there"
                    + " holds them back (README: \"A partition a topology reads no further\")");
        }
        return unread.waiting(keyId, unreadAfter, now).map(waiting -> "a newer state of this key,"
                + " written to " + waiting.partition() + " at offset " + waiting.offset() + ", has stayed unread for"
                + " over " + unreadAfter.toMillis() + " ms behind offset " + unread.readPosition(waiting.partition())
                + ": a transaction left open there holds it back (README: \"A partition a topology reads no"
                + " further\")");
    }

    /** The partitions held now, each with why (empty when none is). */
    public List<String> heldPartitions() {
        return held.entrySet().stream().map(e -> heldDescription(Map.of(e.getKey(), e.getValue()))).toList();
    }

    /** How long a key state may stay unread before its key is refused: {@link #UNREAD_AFTER} past a commit interval. */
    Duration unreadAfter() {
        return unreadAfter;
    }

    /** Whether the committed reader's thread runs. */
    boolean reading() {
        Thread reader = thread;
        return reader != null && reader.isAlive();
    }

    /** Whether the reader ahead's thread runs. */
    boolean aheadReading() {
        Thread aheadReader = ahead;
        return aheadReader != null && aheadReader.isAlive();
    }

    /** How many key states written to the topic wait unread. */
    int unreadCount() {
        return unread.size();
    }

    public int size() {
        return keys.size();
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        caughtUp = false;
        stoppedBecause = null;
        held = Map.of();
        unread.clear();
        ahead = null;
        aheadCaughtUp = false;
        Thread reader = new Thread(this::run, "keymeter-verify-keys");
        reader.setDaemon(true);
        thread = reader; // first: a reader of an earlier start that outlived stop() sees it is no longer the one
        running = true;
        reader.start();
    }

    /** True while this thread is the cache's reader: not stopped, and not replaced by a later start. */
    private boolean active() {
        return running && thread == Thread.currentThread() && stoppedBecause == null;
    }

    /** Tails the topic; after a failure starts over with a fresh consumer where the last one stopped. */
    private void run() {
        try {
            while (active()) {
                try (Consumer<String, byte[]> c = newConsumer(consumerConfig)) {
                    consumer = c;
                    if (!active()) {
                        return;
                    }
                    tail(c);
                } catch (WakeupException e) {
                    return; // stopping
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    log.error("Verify cache failed reading {}; starting over where it stopped", Topics.API_KEYS.name(), e);
                    LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
                }
            }
        } finally {
            if (active()) {
                stoppedBecause = "the key-state reader stopped on an error; restart Keymeter";
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
        AllPartitions.seekToBeginning(c, AllPartitions.seekToKnown(c, partitions, positions));
        long endsAskedAt = System.nanoTime();
        Map<TopicPartition, Long> ends = endOffsets(c, partitions);
        long heldCheckedAt = System.nanoTime();
        while (active()) {
            ConsumerRecords<String, byte[]> records = c.poll(Duration.ofMillis(500));
            Optional<TopicPartition> back = wentBack(c, records);
            if (back.isPresent()) {
                stopBecauseWentBack(back.get());
                return;
            }
            for (ConsumerRecord<String, byte[]> record : records) {
                apply(record);
            }
            // states of keys hashed to a partition added later are sent there: without this, never seen
            all.follow(c);
            AllPartitions.remember(c, positions);
            unread.readTo(positions);
            if (ends != null && ends.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), -1L) >= e.getValue())) {
                currentAsOf = endsAskedAt;
                ends = null;
                // a first read longer than the max staleness reached ends already stale: caught up at the next check
                if (!caughtUp && System.nanoTime() - endsAskedAt < maxStaleness.toNanos()) {
                    caughtUp = true;
                    // the sampled log may have left some out: the count says how many were skipped in all
                    log.info("Verify cache caught up with {}: {} keys{}", Topics.API_KEYS.name(), keys.size(),
                            unreadable.get() == 0 ? "" : ", " + unreadable.get() + " unreadable key state(s) skipped");
                }
            }
            if (caughtUp && ahead == null) {
                startAhead();
            }
            if (ends == null && System.nanoTime() - endsAskedAt >= END_CHECK_INTERVAL.toNanos()) {
                endsAskedAt = System.nanoTime();
                ends = endOffsets(c, c.assignment());
            }
            if (System.nanoTime() - heldCheckedAt >= END_CHECK_INTERVAL.toNanos()) {
                heldCheckedAt = System.nanoTime();
                checkHeld();
            }
        }
    }

    /**
     * The first partition whose log went back under the reader, if any: a record, or the position after the poll,
     * below where it had read. The topic was deleted and created again (or a log truncated): what was read from the
     * old log may no longer be in Kafka, an invalidation waiting behind a transaction there may be gone with it, and
     * the offsets noted ahead mean nothing in the new one.
     */
    private Optional<TopicPartition> wentBack(Consumer<String, byte[]> c, ConsumerRecords<String, byte[]> records) {
        for (TopicPartition partition : c.assignment()) {
            Long before = positions.get(partition);
            if (before != null) {
                List<ConsumerRecord<String, byte[]>> read = records.records(partition);
                long lowest = read.isEmpty() ? c.position(partition) : read.get(0).offset();
                if (lowest < before) {
                    return Optional.of(partition);
                }
            }
        }
        return Optional.empty();
    }

    /** Verify stops answering, before anything of the new log is applied: a restart reads the new log whole. */
    private synchronized void stopBecauseWentBack(TopicPartition partition) {
        if (!active()) {
            return; // stopped or started again meanwhile: the positions compared may be a later reader's
        }
        stoppedBecause = "the log of " + partition + " went back below where verify had read (the topic deleted and"
                + " created again, or truncated): the key states read may no longer be in Kafka; restart Keymeter";
        log.error("Verify cache: {} went back below offset {} (the topic deleted and created again, or truncated); "
                + "verify answers 503 until a restart reads it again", partition, positions.get(partition));
    }

    /**
     * Starts the reader ahead (see the class comment) from where this one stands: read_uncommitted, it reads past a
     * transaction still open, and reads only the keys.
     */
    private void startAhead() {
        Map<String, Object> config = new HashMap<>(consumerConfig);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, consumerConfig.get(ConsumerConfig.CLIENT_ID_CONFIG) + "-ahead");
        Thread owner = Thread.currentThread();
        Thread aheadReader = new Thread(() -> runAhead(config, owner), "keymeter-verify-keys-ahead");
        aheadReader.setDaemon(true);
        ahead = aheadReader;
        try {
            aheadReader.start();
        } catch (OutOfMemoryError e) {
            ahead = null; // no thread to run it: the reader started over tries again
            throw e;
        }
    }

    /** Notes every key state as the reader ahead sees it, while {@code owner} is the cache's reader. */
    private void runAhead(Map<String, Object> config, Thread owner) {
        try {
            while (aheadActive(owner)) {
                try (Consumer<String, Void> c = new KafkaConsumer<>(config, new StringDeserializer(),
                        (topic, value) -> null)) {
                    aheadConsumer = c;
                    if (!aheadActive(owner)) {
                        return;
                    }
                    readAhead(c, owner);
                } catch (WakeupException e) {
                    return; // stopping
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    log.error("Verify cache's reader ahead failed reading {}; starting over", Topics.API_KEYS.name(), e);
                    LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
                }
            }
        } finally {
            if (aheadActive(owner)) {
                stoppedBecause = "the key-state reader ahead stopped on an error; restart Keymeter";
                log.error("Verify cache's reader ahead stopped; verify answers 503 until a restart");
            }
        }
    }

    /** Reads ahead from the committed reader's positions until stopped. */
    private void readAhead(Consumer<String, Void> c, Thread owner) {
        AllPartitions all = new AllPartitions(Topics.API_KEYS.name());
        List<TopicPartition> partitions = all.assign(c, Duration.ofSeconds(60));
        for (TopicPartition partition : partitions) {
            c.seek(partition, unread.readPosition(partition));
        }
        // what is written up to the end now may have waited unread since this reader last read (at a start, for
        // minutes behind a transaction open before it): due at once; until there, key states may go unnoticed
        Map<TopicPartition, Long> ends = c.endOffsets(partitions, AHEAD_ENDS_TIMEOUT);
        while (aheadActive(owner)) {
            for (ConsumerRecord<String, Void> record : c.poll(Duration.ofMillis(500))) {
                TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                boolean before = ends != null && record.offset() < ends.getOrDefault(partition, 0L);
                unread.seen(record.key(), partition, record.offset(), System.nanoTime() - (before ? age(record) : 0));
            }
            all.follow(c);
            if (ends != null && ends.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
                ends = null;
            }
            if (ends == null && aheadActive(owner)) { // not a reader ahead of an earlier start: that reset the mark
                aheadPolledAt = System.nanoTime(); // first: whoever sees aheadCaughtUp sees this
                aheadCaughtUp = true;
            }
        }
    }

    /**
     * How long a state found at a start of the reader ahead may already have waited unread, in nanoseconds: since it
     * was written, as its timestamp says, at most {@link #unreadAfter()} (another host's clock may differ), so one
     * behind a transaction left open before is refused at once and one in a transaction committing now is not.
     */
    private long age(ConsumerRecord<?, ?> record) {
        long millis = Math.max(0, System.currentTimeMillis() - record.timestamp());
        return Math.min(unreadAfter.toNanos(), Duration.ofMillis(millis).toNanos());
    }

    /** True while {@code owner} is the cache's reader and no reader has stopped on an error. */
    private boolean aheadActive(Thread owner) {
        return running && thread == owner && stoppedBecause == null;
    }

    /** Notes, and logs, the partitions on which a key state has waited unread for the time allowed. */
    private void checkHeld() {
        // a fresh map each time, never changed after: safe to publish
        Map<TopicPartition, Long> now = unread.heldLongerThan(heldAfter, System.nanoTime());
        Set<TopicPartition> released = new HashSet<>(held.keySet());
        released.removeAll(now.keySet());
        if (!released.isEmpty()) {
            log.info("Verify cache: {} read again past the transaction that held it", released);
        }
        Map<TopicPartition, Long> newlyHeld = new LinkedHashMap<>(now);
        newlyHeld.entrySet().removeIf(e -> e.getValue().equals(held.get(e.getKey())));
        if (!newlyHeld.isEmpty()) {
            log.warn("Verify cache: {}; verify answers 503 for the keys with states waiting there until it ends",
                    heldDescription(newlyHeld));
        }
        held = now;
    }

    private String heldDescription(Map<TopicPartition, Long> held) {
        return held.entrySet().stream().map(e -> e.getKey() + " at offset " + e.getValue())
                .collect(Collectors.joining(", ", "held on ", "")) + " for over " + heldAfter.toSeconds() + " s"
                + " by a transaction left open there: key states written after it, invalidations included, cannot be"
                + " read until it ends (README: \"A partition a topology reads no further\")";
    }

    /**
     * The partitions' end offsets, or null when the broker does not answer in time: a broker this instance cannot
     * reach (while the credential store may) leaves the cache no longer current, without a new consumer.
     */
    private Map<TopicPartition, Long> endOffsets(Consumer<String, byte[]> c, Collection<TopicPartition> partitions) {
        try {
            Map<TopicPartition, Long> ends = c.endOffsets(partitions, END_CHECK_INTERVAL.multipliedBy(2));
            if (unanswered > 0) {
                log.info("Verify cache: the broker answers again after {} unanswered end-offset requests", unanswered);
                unanswered = 0;
            }
            return ends;
        } catch (TimeoutException e) {
            if (unanswered++ == 0) {
                log.warn("Verify cache: the broker did not give the end offsets of {} in {} ms; verify answers 503"
                        + " once the cache is {} behind", Topics.API_KEYS.name(),
                        END_CHECK_INTERVAL.multipliedBy(2).toMillis(), maxStaleness);
            }
            return null;
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
            unreadable.incrementAndGet();
            skipped.record(() -> "Skipping unreadable key state at " + record.topic() + "-" + record.partition()
                    + "@" + record.offset() + " (the key's previous state stays; metering dead-letters it): "
                    + e.getMessage());
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
        Consumer<String, Void> currentAhead = aheadConsumer;
        Thread aheadReader = ahead;
        if (currentAhead != null && aheadReader != null) {
            currentAhead.wakeup();
        }
        try {
            thread.join(10_000);
            if (aheadReader != null) {
                aheadReader.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Read on until the calls in flight at shutdown have been answered (see {@link LifecyclePhases}). */
    @Override
    public int getPhase() {
        return LifecyclePhases.BEHIND_WEB_SERVER;
    }
}
