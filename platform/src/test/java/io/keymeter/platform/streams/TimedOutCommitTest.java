package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit whose end of transaction times out (the transaction coordinator away for longer than
 * {@code max.block.ms}, as during a broker restart), with nothing consumed since the task was assigned: Kafka
 * Streams 4.4 logs "Committing task(s)  failed." for no task and goes on as if the commit had succeeded, and the
 * transactional state stores commit its writes locally. Its next commit with offsets fails ("the previous call to
 * commitTransaction timed out and must be retried"), the thread dies and the transaction is aborted: the stores kept
 * writes Kafka never had, and the punctuation that made them, its store saying it was done, never ran again (a key's
 * expiry in the credential store, a request released by metering's wait, a statement at cycle close). Keymeter's
 * Kafka Streams reports such a timeout as a fencing ({@link CommitTimeoutFencing}): the tasks are closed dirty,
 * their stores rolled back, and the punctuation runs again.
 * <p>
 * The producer is then replaced, and Kafka Streams closes it without a timeout: Kafka's close waits for the
 * transaction to end, which it cannot while the coordinator is away, and the thread stood still (60 s on a test rig).
 * Keymeter's closes wait {@link CommitTimeoutFencing#CLOSE_TIMEOUT} at most.
 * <p>
 * The broker and the transactions are real; one producer fails its commits, as Kafka's does when the coordinator
 * does not answer in time (a fault a real broker gives only by chance: a broker restart did, once, in a probe).
 */
@Timeout(180)
class TimedOutCommitTest {

    private static final String IN = "timed-out-commit-in";
    private static final String OUT = "timed-out-commit-out";
    private static final String STORE = "marks";

    @TempDir
    Path dir;

    /** Whether the punctuator marks what it finds: off while the first run leaves a record to mark. */
    private final AtomicBoolean punctuate = new AtomicBoolean();
    private final AtomicInteger timedOutCommits = new AtomicInteger();
    /** Closes of a producer whose commit timed out: each waits, as Kafka's does, until its time is up or released. */
    private final AtomicInteger stuckCloses = new AtomicInteger();
    private final CountDownLatch coordinatorBack = new CountDownLatch(1);
    /** Producers made in the second run: the first one's commits time out (its coordinator unreachable). */
    private final AtomicInteger producersMade = new AtomicInteger();
    private final List<Throwable> threadFailures = new CopyOnWriteArrayList<>();

    /** Marks each record "seen"; the punctuator marks what is "seen" as "punctuated", once, and says so downstream. */
    final class Marker implements Processor<String, String, String, String> {

        private ProcessorContext<String, String> context;
        private KeyValueStore<String, String> marks;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.marks = context.getStateStore(STORE);
            context.schedule(Duration.ofMillis(100), PunctuationType.WALL_CLOCK_TIME, this::markSeen);
        }

        private void markSeen(long now) {
            if (!punctuate.get()) {
                return;
            }
            List<String> seen = new ArrayList<>();
            try (KeyValueIterator<String, String> all = marks.all()) {
                all.forEachRemaining(entry -> {
                    if (entry.value.equals("seen")) {
                        seen.add(entry.key);
                    }
                });
            }
            for (String key : seen) {
                marks.put(key, "punctuated");
                context.forward(new Record<>(key, "punctuated", now));
            }
        }

        @Override
        public void process(Record<String, String> record) {
            marks.put(record.key(), "seen");
            context.forward(record.withValue("seen"));
        }
    }

    @Test
    void aPunctuationWhoseCommitTimedOutIsNotLostWhenItsThreadDies() throws Exception {
        try (OwnBroker kafka = OwnBroker.start(dir.resolve("kafka"),
                List.of(new NewTopic(IN, 1, (short) 1), new NewTopic(OUT, 1, (short) 1),
                        new NewTopic(Topics.DEAD_LETTERS, 1, (short) 1)));
             KafkaProducer<String, String> input = inputProducer(kafka);
             KafkaConsumer<String, String> output = outputConsumer(kafka)) {
            Properties config = config(kafka);

            // first run: "a" is seen, committed, and the application stops cleanly
            try (KafkaStreams first = new KafkaStreams(topology(), config)) {
                first.start();
                input.send(new ProducerRecord<>(IN, "a", "1")).get();
                awaitOutput(output, List.of("a=seen"));
                first.close(Duration.ofSeconds(30));
            }

            // second run, as Keymeter's: nothing consumed yet, the punctuation marks "a" and the commits of the
            // thread's first producer time out, then "b" comes
            punctuate.set(true);
            try (KafkaStreams second = new GuardedMetricsKafkaStreams(topology(), config,
                    producer -> new TimingOutProducer(producer, producersMade.incrementAndGet() == 1))) {
                second.setUncaughtExceptionHandler(e -> {
                    threadFailures.add(e);
                    return StreamThreadExceptionResponse.REPLACE_THREAD;
                });
                second.start();
                await().atMost(Duration.ofSeconds(60)).until(() -> timedOutCommits.get() > 0);
                input.send(new ProducerRecord<>(IN, "b", "1")).get();

                // Kafka Streams alone: the commit passed for done, the stores kept "a" as "punctuated", the next
                // commit killed the thread and aborted the transaction, and "a" was never said downstream. And the
                // output comes within the await's minute only if the first producer's close is bounded (Kafka
                // Streams alone: the close waits for the coordinator, here two minutes)
                awaitOutput(output, List.of("b=seen", "a=punctuated", "b=punctuated"));
                assertThat(threadFailures).as("stream threads that failed").isEmpty();
                assertThat(stuckCloses).as("closes that waited for the coordinator").hasPositiveValue();
                second.close(Duration.ofSeconds(30));
            } finally {
                coordinatorBack.countDown();
            }
        }
    }

    private Topology topology() {
        Topology topology = new Topology();
        topology.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), IN)
                .addProcessor("marker", Marker::new, "in")
                .addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                        Serdes.String()), "marker")
                .addSink("out", OUT, Serdes.String().serializer(), Serdes.String().serializer(), "marker");
        return topology;
    }

    /** The production settings (exactly once, the stores as configured), one thread, no static membership. */
    private Properties config(OwnBroker kafka) {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null,
                null, null, null, null, new KeymeterProperties.Streams(null, null, null, null, false));
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers()), properties, "timed-out-commit", Map.of());
        config.put(PunctuationFailures.CONFIG, new PunctuationFailures()); // as StreamsApp does
        // a closed application's member and a failed thread's stay in the group until their session ends
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
        return config;
    }

    private static KafkaProducer<String, String> inputProducer(OwnBroker kafka) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> outputConsumer(OwnBroker kafka) {
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer());
        consumer.assign(List.of(new TopicPartition(OUT, 0)));
        return consumer;
    }

    /** Waits until the committed output read since the last call holds {@code expected}. */
    private static void awaitOutput(KafkaConsumer<String, String> output, List<String> expected) {
        List<String> read = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            output.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.key() + "=" + r.value()));
            assertThat(read).containsAll(expected);
        });
    }

    /**
     * A real producer whose {@code commitTransaction}, if {@code failing}, always times out, leaving the transaction
     * open, and which then behaves as Kafka's does after such a timeout: offsets may not be added until the commit is
     * retried.
     */
    private final class TimingOutProducer extends ForwardingProducer {

        /** Longer than any await here: a close without a timeout that waits this long fails the test. */
        private static final Duration COORDINATOR_AWAY = Duration.ofMinutes(2);

        private final boolean failing;
        private volatile boolean commitPending;

        TimingOutProducer(Producer<byte[], byte[]> real, boolean failing) {
            super(real);
            this.failing = failing;
        }

        @Override
        public void commitTransaction() {
            if (failing) {
                commitPending = true;
                timedOutCommits.incrementAndGet();
                throw new TimeoutException("Timeout expired while awaiting EndTxn(true) (simulated)");
            }
            super.commitTransaction();
            commitPending = false;
        }

        @Override
        public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                             ConsumerGroupMetadata groupMetadata) {
            if (commitPending && !offsets.isEmpty()) {
                // Kafka's own message (TransactionManager.throwIfPendingState)
                throw new IllegalStateException("Cannot attempt operation `sendOffsetsToTransaction` because the "
                        + "previous call to `commitTransaction` timed out and must be retried");
            }
            super.sendOffsetsToTransaction(offsets, groupMetadata);
        }

        /** Kafka's close waits for a transaction whose commit timed out to end: here while the coordinator is away. */
        @Override
        public void close() {
            awaitCoordinator(COORDINATOR_AWAY);
            super.close();
        }

        /** ...and gives up when its timeout is up. */
        @Override
        public void close(Duration timeout) {
            awaitCoordinator(timeout.compareTo(COORDINATOR_AWAY) < 0 ? timeout : COORDINATOR_AWAY);
            super.close(timeout);
        }

        private void awaitCoordinator(Duration atMost) {
            if (!commitPending) {
                return;
            }
            stuckCloses.incrementAndGet();
            try {
                coordinatorBack.await(atMost.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
