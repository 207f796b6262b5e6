package io.keymeter.ingest.publish;

import io.keymeter.events.Rejection;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each batch in one Kafka transaction, so a batch is either wholly visible to {@code read_committed}
 * readers or not at all: a 503 never leaves half a batch behind.
 * <p>
 * A small pool of transactional producers, one per batch in flight. Each pool slot keeps its
 * {@code transactional.id} ({@code <prefix>-<instance>-<slot>}) for the life of the process: a producer that failed
 * is closed and its replacement, by calling {@code initTransactions} under the same id, fences it and aborts
 * whatever transaction it left open on the broker.
 * <p>
 * Every batch also has a watchdog: the client's own bounds ({@code max.block.ms}, {@code delivery.timeout.ms}) did
 * not always hold with the broker gone (a send was seen blocked for 50 s), so a batch that has spent
 * {@link #WATCHDOG_FACTOR} times the publish timeout inside Kafka calls (its sends and its commit, in all) has its
 * producer closed under it, which fails the blocked call and turns the batch into a 503. Only that time counts, not
 * the time the body takes to parse: timed whole, a large body parsed on a loaded machine was cut, a 503 on every
 * retry. (Timed from the last send instead, sends that each block {@code max.block.ms} and then return a failed
 * future kept a batch with the broker gone open for a minute.) The transaction's own timeout on the broker still
 * bounds a whole batch.
 */
public final class TransactionalPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TransactionalPublisher.class);

    private final Map<String, Object> baseConfig;
    private final IntFunction<Producer<String, byte[]>> producers;
    private final PublishSettings settings;
    private final String idPrefix;
    /** Last in, first out: the most recently used (warm, connected) producer is taken first. */
    private final BlockingDeque<Slot> free;
    private final Serializer<Rejection> rejectionSerializer = Topics.REJECTIONS.valueSerde().serializer();
    private volatile boolean closed;
    private final ScheduledThreadPoolExecutor watchdog = watchdog();

    /**
     * One daemon thread. A cancelled watch leaves the queue at once: kept, as by default, each held its batch and
     * the batch's producer (a closed one's buffers too, after a failure) for twice the publish timeout.
     */
    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "ingest-publish-watchdog");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /** Watches of open batches (a test's view). */
    int watchesPending() {
        return watchdog.getQueue().size();
    }

    /** A batch still open after this many publish timeouts is failed by closing its producer. */
    static final int WATCHDOG_FACTOR = 2;

    /**
     * @param producerConfig from {@code KafkaClients.producer(..)}: cluster, security, idempotence, acks=all
     */
    public TransactionalPublisher(Map<String, Object> producerConfig, PublishSettings settings) {
        this(producerConfig, settings, null);
    }

    /** @param producers makes the producer of a slot, by slot index (a test's); null: Kafka producers */
    TransactionalPublisher(Map<String, Object> producerConfig, PublishSettings settings,
                           IntFunction<Producer<String, byte[]>> producers) {
        this.producers = producers == null ? this::newProducer : producers;
        this.baseConfig = new HashMap<>(producerConfig);
        this.settings = settings;
        this.idPrefix = "keymeter-ingest-" + UUID.randomUUID().toString().substring(0, 8);
        this.free = new LinkedBlockingDeque<>(settings.producers());
        for (int i = 0; i < settings.producers(); i++) {
            free.add(new Slot(i));
        }
    }

    /** Starts a batch: takes a producer from the pool (waiting at most the timeout) and begins its transaction. */
    public Batch begin() {
        Slot slot;
        try {
            slot = free.pollFirst(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishUnavailableException("interrupted while waiting for a producer", e);
        }
        if (slot == null) {
            throw new PublishUnavailableException("every producer is busy", null);
        }
        if (closed) {
            release(slot, true); // closes its producer
            throw new PublishUnavailableException("Keymeter is stopping", null);
        }
        try {
            if (slot.producer == null) {
                slot.producer = producers.apply(slot.index);
                slot.producer.initTransactions();
            }
            slot.producer.beginTransaction();
            Batch batch = new Batch(slot);
            batch.watch(watchdog.schedule(batch::expire, settings.timeout().toMillis() * WATCHDOG_FACTOR,
                    TimeUnit.MILLISECONDS));
            return batch;
        } catch (KafkaException e) {
            release(slot, false);
            throw new PublishUnavailableException("Kafka cannot start a transaction", e);
        } catch (RuntimeException e) {
            // anything else the client throws (an IllegalStateException from its transaction state, say): the slot
            // goes back for a new producer, or the pool would shrink for good; the gateway retries
            release(slot, false);
            throw new PublishUnavailableException("the Kafka producer could not start a transaction", e);
        } catch (Error e) {
            release(slot, false);
            throw e;
        }
    }

    private KafkaProducer<String, byte[]> newProducer(int index) {
        Map<String, Object> config = new HashMap<>(baseConfig);
        String id = idPrefix + "-" + index;
        long timeoutMs = settings.timeout().toMillis();
        config.put(ProducerConfig.CLIENT_ID_CONFIG, id);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        config.put(ProducerConfig.LINGER_MS_CONFIG, settings.lingerMs());
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, settings.batchBytes());
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, settings.compression());
        // every blocking call (metadata, buffer space, init, commit) and every send is bounded by the timeout
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs);
        int requestTimeout = (int) Math.max(500, timeoutMs / 2 - settings.lingerMs());
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeout);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(timeoutMs, requestTimeout + settings.lingerMs()));
        // an instance that dies mid-batch blocks read_committed readers of those partitions at most this long
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) Math.max(30_000, 3 * timeoutMs));
        return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    /** Synchronized with {@link #close()}: a slot given back while the pool closes would keep a live producer. */
    private synchronized void release(Slot slot, boolean healthy) {
        if (!healthy && slot.producer != null) {
            try {
                slot.producer.close(Duration.ZERO);
            } catch (RuntimeException e) {
                log.debug("Closing a failed ingest producer: {}", e.toString());
            }
            slot.producer = null;
        }
        if (closed && slot.producer != null) {
            slot.producer.close(Duration.ofSeconds(5));
            slot.producer = null;
        }
        free.addFirst(slot);
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Slot slot : free) {
                if (slot.producer != null) {
                    slot.producer.close(Duration.ofSeconds(5));
                    slot.producer = null;
                }
            }
        }
        watchdog.shutdownNow();
    }

    private static final class Slot {
        final int index;
        Producer<String, byte[]> producer;

        Slot(int index) {
            this.index = index;
        }
    }

    /** One open transaction: send lines, then {@link #commit()}; closing without a commit aborts it. */
    public final class Batch implements AutoCloseable {

        private final Slot slot;
        private final Producer<String, byte[]> producer;
        /** Set once, by whichever comes first: the batch's own end, or the watchdog closing its producer. */
        private final AtomicBoolean settled = new AtomicBoolean();
        /** The slot went back to the pool (the request's thread only). */
        private boolean released;
        private volatile ScheduledFuture<?> watch;
        /** nanoTime at which the Kafka call in progress began; 0 between calls. */
        private volatile long callStartedAt;
        /** Nanoseconds spent in the batch's finished Kafka calls (written by the request's thread only). */
        private volatile long inCalls;
        private int requests;
        private int rejections;

        private Batch(Slot slot) {
            this.slot = slot;
            this.producer = slot.producer;
        }

        private void watch(ScheduledFuture<?> future) {
            this.watch = future;
        }

        /**
         * The watchdog: a batch that has spent the whole watch inside Kafka calls is stuck in the client, and closing
         * the producer fails the stuck call; one that has spent less (it was parsing) is watched again for the rest.
         */
        private void expire() {
            long limit = settings.timeout().toNanos() * WATCHDOG_FACTOR;
            long finished = inCalls; // before the start: see callEnds
            long started = callStartedAt;
            long spent = finished + (started == 0 ? 0 : System.nanoTime() - started);
            if (spent < limit) {
                if (!settled.get()) {
                    watch = watchdog.schedule(this::expire, Math.max(limit - spent, limit / 20), TimeUnit.NANOSECONDS);
                    if (settled.get()) { // ended meanwhile: endWatch may have cancelled the former watch only
                        watch.cancel(false);
                    }
                }
                return;
            }
            if (settled.compareAndSet(false, true)) {
                log.warn("Ingest batch {} x the publish timeout inside Kafka calls: closing its producer", WATCHDOG_FACTOR);
                producer.close(Duration.ZERO);
            }
        }

        /**
         * Ends the watch. False when the watchdog came first and closed the producer, possibly just after a commit
         * that went through: that producer must not go back to the pool.
         */
        private boolean endWatch() {
            boolean first = settled.compareAndSet(false, true);
            ScheduledFuture<?> future = watch;
            if (future != null) {
                future.cancel(false);
            }
            return first;
        }

        private void end(boolean healthy) {
            released = true;
            release(slot, healthy);
        }

        public void send(RequestLog request) {
            String topic = Topics.REQUESTS.name();
            send(new ProducerRecord<>(topic, request.keyId(), RequestLogWriter.write(request)));
            requests++;
        }

        /** Records a rejection under the given record key (the keyId, or a placeholder when there is none). */
        public void send(String key, Rejection rejection) {
            String topic = Topics.REJECTIONS.name();
            send(new ProducerRecord<>(topic, key, rejectionSerializer.serialize(topic, rejection)));
            rejections++;
        }

        private void send(ProducerRecord<String, byte[]> record) {
            RuntimeException failure = null;
            long started = callStarts();
            try {
                // errors of single sends surface at commit: the transaction then fails as a whole
                slot.producer.send(record);
            } catch (KafkaException | IllegalStateException e) { // IllegalState: closed by the watchdog
                failure = e;
            } finally {
                callEnds(started);
            }
            if (failure != null) {
                fail("Kafka cannot take the batch", failure);
            }
        }

        private long callStarts() {
            long now = System.nanoTime();
            callStartedAt = now;
            return now;
        }

        /**
         * The call's start is cleared before its time is added, and {@link #expire} reads the total before the start:
         * a call ending between its two reads is then counted at most once (counted twice, it closed a healthy
         * producer), and a call counted short only makes the watch look again sooner.
         */
        private void callEnds(long started) {
            long took = System.nanoTime() - started;
            callStartedAt = 0;
            inCalls += took;
        }

        /** Commits (bounded by {@code max.block.ms}); returns only when every line is durably written (acks=all), or throws and nothing is visible. */
        public void commit() {
            RuntimeException failure = null;
            long started = callStarts();
            try {
                slot.producer.commitTransaction();
            } catch (KafkaException | IllegalStateException e) { // IllegalState: closed by the watchdog
                failure = e;
            } finally {
                callEnds(started);
            }
            if (failure != null) {
                fail("Kafka did not commit the batch", failure);
            }
            end(endWatch());
        }

        public int requests() {
            return requests;
        }

        public int rejections() {
            return rejections;
        }

        private void fail(String message, Exception cause) {
            endWatch();
            // closed, not aborted: an abort could block again; the slot's next producer fences this transaction
            end(false);
            throw new PublishUnavailableException(message, cause);
        }

        /** Aborts the transaction if it was not committed (a bad body, a client gone). */
        @Override
        public void close() {
            if (released) {
                return;
            }
            boolean healthy = endWatch();
            if (healthy) {
                try {
                    slot.producer.abortTransaction();
                } catch (RuntimeException e) { // anything: a producer in doubt goes, and the slot comes back
                    healthy = false;
                }
            }
            end(healthy);
        }
    }
}
