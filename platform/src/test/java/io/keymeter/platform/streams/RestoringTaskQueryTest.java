package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.TaskCorruptedException;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link RunningPartitions} guards against, on a real broker with the production Streams settings: a task
 * corrupted while its stream thread runs (here its processor throws {@link TaskCorruptedException}, as Kafka Streams'
 * record collector does when a send fails with a retriable error under exactly-once) is closed dirty, its store
 * wiped, and restored from its changelog's beginning in the state updater, while the thread stays RUNNING until the
 * rebalance it enforces completes. Kafka Streams 4.4 answers an interactive query of that partition from the store
 * being restored: part of its data. The processor's close and init, which {@link RunningPartitions} counts, bracket
 * exactly that time.
 * <p>
 * Two instances, one partition each: the other instance's stream thread is held in its processor, so the enforced
 * rebalance waits for it to rejoin, as it waits for a broker that is away; a global restore listener holds the
 * restoration after its first batch.
 */
@Timeout(180)
class RestoringTaskQueryTest {

    private static final String IN = "restoring-task-in";
    private static final String STORE = "entries";
    private static final int ENTRIES = 20;

    @TempDir
    Path dir;

    /** The next "corrupt" record makes its task corrupted, once. */
    private final AtomicBoolean corruptOnce = new AtomicBoolean(true);
    /** Holds the stream thread that processes a "hold" record until released. */
    private final CountDownLatch threadHeld = new CountDownLatch(1);
    private final CountDownLatch releaseThread = new CountDownLatch(1);
    /** While set, restoration stops after its first batch until released. */
    private final AtomicBoolean holdRestoration = new AtomicBoolean();
    private final CountDownLatch restorationHeld = new CountDownLatch(1);
    private final CountDownLatch releaseRestoration = new CountDownLatch(1);
    private final AtomicLong restoredBeforeHold = new AtomicLong(-1);

    /** Puts each record in the store and reports its task's partition as {@link RunningPartitions} expect. */
    final class Writer implements Processor<String, String, Void, Void> {

        private final RunningPartitions running;
        private RunningPartitions.Registration registration;
        private ProcessorContext<Void, Void> context;
        private KeyValueStore<String, String> entries;

        Writer(RunningPartitions running) {
            this.running = running;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.context = context;
            this.entries = context.getStateStore(STORE);
            registration = running.started(context.taskId().partition());
        }

        @Override
        public void process(Record<String, String> record) {
            switch (record.key()) {
                case "corrupt" -> {
                    if (corruptOnce.compareAndSet(true, false)) {
                        throw new TaskCorruptedException(Set.of(context.taskId()));
                    }
                }
                case "hold" -> {
                    threadHeld.countDown();
                    hold(releaseThread);
                }
                default -> entries.put(record.key(), record.value());
            }
        }

        @Override
        public void close() {
            if (registration != null) {
                registration.close();
                registration = null;
            }
        }
    }

    /** Holds the restoration after its first batch while {@link #holdRestoration} is set. */
    final class HoldingRestoreListener implements StateRestoreListener {

        @Override
        public void onRestoreStart(TopicPartition partition, String store, long startingOffset, long endingOffset) {
        }

        @Override
        public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long restored) {
            if (holdRestoration.get() && restorationHeld.getCount() > 0) {
                restoredBeforeHold.set(restored);
                restorationHeld.countDown();
                hold(releaseRestoration);
            }
        }

        @Override
        public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
        }
    }

    @Test
    void aTaskRestoredAgainAfterACorruptionIsQueryableWhileItsPartitionIsNotRunning() throws Exception {
        RunningPartitions runningA = new RunningPartitions();
        RunningPartitions runningB = new RunningPartitions();
        try (OwnBroker kafka = OwnBroker.start(dir.resolve("kafka"), List.of(new NewTopic(IN, 2, (short) 1),
                new NewTopic(Topics.DEAD_LETTERS, 1, (short) 1)));
             KafkaProducer<String, String> input = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                     new StringSerializer(), new StringSerializer());
             KafkaStreams a = start(kafka, "a", runningA);
             KafkaStreams b = start(kafka, "b", runningB)) {
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> a.state() == KafkaStreams.State.RUNNING
                        && b.state() == KafkaStreams.State.RUNNING
                        && runningA.running().size() == 1 && runningB.running().size() == 1);
                int partition = runningA.running().iterator().next();
                int other = runningB.running().iterator().next();
                assertThat(partition).isNotEqualTo(other);

                for (int i = 0; i < ENTRIES; i++) {
                    input.send(new ProducerRecord<>(IN, partition, "k" + i, "v" + i)).get();
                }
                // every entry committed: in the changelog that a restoration reads
                awaitCommitted(kafka, partition, ENTRIES);
                assertThat(rawCount(a, partition)).isEqualTo(ENTRIES);

                // b's thread held: the rebalance a's corruption enforces waits for b to rejoin
                input.send(new ProducerRecord<>(IN, other, "hold", "")).get();
                assertThat(threadHeld.await(60, TimeUnit.SECONDS)).as("b's thread held").isTrue();
                holdRestoration.set(true);
                input.send(new ProducerRecord<>(IN, partition, "corrupt", "")).get();

                assertThat(restorationHeld.await(60, TimeUnit.SECONDS)).as("a's restoration held").isTrue();
                // Kafka Streams: the thread RUNNING, the query answered from the store being restored
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(a.state()).isEqualTo(KafkaStreams.State.RUNNING);
                    assertThat(rawCount(a, partition)).as("a raw query of the partition being restored")
                            .isBetween(0L, ENTRIES - 1L);
                });
                assertThat(restoredBeforeHold.get()).isLessThan(ENTRIES);
                System.out.printf("restored before the hold: %d; a raw query then read %d of %d entries%n",
                        restoredBeforeHold.get(), rawCount(a, partition), ENTRIES);
                assertThat(runningA.isRunning(partition)).as("the guard: its task's processors closed").isFalse();

                // b rejoins and the rebalance completes (a's thread, which waited in its poll, goes on), then the
                // restoration ends: the processors are initialized again, and the partition is whole
                releaseThread.countDown();
                releaseRestoration.countDown();
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    assertThat(a.state()).isEqualTo(KafkaStreams.State.RUNNING);
                    assertThat(runningA.isRunning(partition)).as("restored and initialized again").isTrue();
                    assertThat(rawCount(a, partition)).isEqualTo(ENTRIES);
                });
            } finally {
                releaseRestoration.countDown();
                releaseThread.countDown();
            }
            a.close(Duration.ofSeconds(30));
            b.close(Duration.ofSeconds(30));
        }
    }

    /** The entries of one partition of the store as an interactive query reads them, or -1 when it is refused. */
    private static long rawCount(KafkaStreams streams, int partition) {
        try {
            ReadOnlyKeyValueStore<String, String> store = streams.store(StoreQueryParameters.fromNameAndType(STORE,
                    QueryableStoreTypes.<String, String>keyValueStore()).withPartition(partition));
            long count = 0;
            try (KeyValueIterator<String, String> all = store.all()) {
                while (all.hasNext()) {
                    all.next();
                    count++;
                }
            }
            return count;
        } catch (InvalidStateStoreException e) {
            return -1;
        }
    }

    private KafkaStreams start(OwnBroker kafka, String instance, RunningPartitions running) {
        KafkaStreams streams = new KafkaStreams(topology(running), config(kafka, instance));
        streams.setGlobalStateRestoreListener(new HoldingRestoreListener());
        streams.start();
        return streams;
    }

    private Topology topology(RunningPartitions running) {
        Topology topology = new Topology();
        topology.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), IN)
                .addProcessor("writer", () -> new Writer(running), "in")
                .addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                        Serdes.String()), "writer");
        return topology;
    }

    /** The production settings (exactly once, transactional stores), one thread, no static membership. */
    private Properties config(OwnBroker kafka, String instance) {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve(instance), null, null, null, null,
                null, null, null, null, new KeymeterProperties.Streams(null, null, null, null, false));
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers()), properties, "restoring-task", Map.of());
        config.put(PunctuationFailures.CONFIG, new PunctuationFailures()); // as StreamsApp does
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
        // a restoration of several batches: held after the first, part of the partition is in the store
        config.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 1);
        return config;
    }

    private static void awaitCommitted(OwnBroker kafka, int partition, long offset) {
        TopicPartition tp = new TopicPartition(IN, partition);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            OffsetAndMetadata committed = kafka.admin().listConsumerGroupOffsets("keymeter-restoring-task")
                    .partitionsToOffsetAndMetadata().get().get(tp);
            return committed != null && committed.offset() >= offset;
        });
    }

    private static void hold(CountDownLatch latch) {
        try {
            if (!latch.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
