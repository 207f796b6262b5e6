package io.keymeter.platform.streams;

import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's clients for Kafka Streams, made as Kafka Streams makes them by default, with one change: a stream thread's
 * transaction whose commit times out is reported as a fencing. Kafka Streams 4.4 handles that timeout as a corrupted
 * task only for tasks with offsets in the commit; when none has (punctuations alone wrote, in tasks that read nothing
 * since they were assigned) it logs "Committing task(s)  failed." for no task and carries on as if the transaction
 * had committed, and the transactional state stores commit its writes locally. If the transaction is then aborted
 * (its thread dies on the next commit, "the previous call to commitTransaction timed out and must be retried", or
 * the producer is fenced), the stores keep writes Kafka never had: a key's expiry or removal announced by nobody, a
 * request released by metering's wait and never counted, a statement never issued, each store saying it was done.
 * <p>
 * A fencing is handled as such a state requires: every task of the thread is closed dirty, its stores rolled back to
 * their last local commit, the producer replaced (its {@code initTransactions} settles the open transaction on the
 * broker: committed if its commit got there, aborted otherwise) and the group joined again; the tasks then restore
 * whatever the transaction committed from their changelogs and read again from the committed offsets. No local
 * commit can run ahead of Kafka's. ({@code TimedOutCommitTest})
 * <p>
 * The producer replaced there, and that of a thread that dies, is closed by Kafka Streams without a timeout, and
 * Kafka's close waits for the open transaction to end: while the coordinator does not answer (a broker restarting),
 * the thread stood still (60 s on a test rig) and its consumer stayed in the group, so that no rebalance
 * could hand its tasks on. Here such a close waits {@link #CLOSE_TIMEOUT} at most: a transaction it leaves open is
 * ended by the coordinator (aborted at its timeout, or settled by the next producer of its transactional id), so
 * exactly once holds either way.
 */
final class CommitTimeoutFencing implements KafkaClientSupplier {

    private static final Logger log = LoggerFactory.getLogger(CommitTimeoutFencing.class);

    /** How long a close without a timeout waits for the producer's transaction to end (milliseconds when healthy). */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final UnaryOperator<Producer<byte[], byte[]>> underneath;

    CommitTimeoutFencing() {
        this(UnaryOperator.identity());
    }

    /** {@code underneath} wraps each of Kafka's producers before this does: a test's faults. */
    CommitTimeoutFencing(UnaryOperator<Producer<byte[], byte[]>> underneath) {
        this.underneath = underneath;
    }

    @Override
    public Admin getAdmin(Map<String, Object> config) {
        return Admin.create(config);
    }

    @Override
    public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
        return new FencedOnCommitTimeout(underneath.apply(
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())));
    }

    @Override
    public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
        return getConsumer(config);
    }

    @Override
    public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
        return getConsumer(config);
    }

    /**
     * Kafka's producer, but a commit that times out throws {@link ProducerFencedException}, and a close without a
     * timeout waits {@link #CLOSE_TIMEOUT} at most.
     */
    private static final class FencedOnCommitTimeout extends ForwardingProducer {

        FencedOnCommitTimeout(Producer<byte[], byte[]> producer) {
            super(producer);
        }

        @Override
        public void commitTransaction() {
            try {
                super.commitTransaction();
            } catch (TimeoutException e) {
                log.warn("A transaction's commit timed out ({}): handled as a fencing, so that no state store "
                        + "commits what Kafka may abort", e.getMessage());
                ProducerFencedException fenced = new ProducerFencedException("commit timed out: " + e.getMessage());
                fenced.initCause(e);
                throw fenced;
            }
        }

        @Override
        public void close() {
            super.close(CLOSE_TIMEOUT);
        }
    }
}
