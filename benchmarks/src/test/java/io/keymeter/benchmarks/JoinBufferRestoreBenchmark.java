package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSettings;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.ConsumerGroups;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.junit.jupiter.api.Test;

/**
 * What live traffic leaves in the changelogs that grow with it, and what a restart then restores.
 * <ul>
 * <li>The join buffer: a live request (stamped now) waits the join grace in this in-memory store, one changelog
 * record when it enters and a tombstone when it is judged. An in-memory store is restored from its whole changelog on
 * every start, so whatever the broker still keeps of it is read again.</li>
 * <li>The dedupe store: a record per request and a tombstone once its generation expires (within the run with
 * {@code -Dbench.dedupe-window=PT1M}). It is persistent, so only a new instance or a wipe restores it, from all of
 * it.</li>
 * </ul>
 * The metering topology runs in this JVM against requests sent at {@code -Dbench.rate} a second (default 3,000) for
 * {@code -Dbench.seconds} (default 180), on keys it does not know (each is still buffered, then judged); then it is
 * stopped, both changelogs' records are counted, and it is started again on the same state dir while a restore
 * listener counts what each store restores.
 */
class JoinBufferRestoreBenchmark {

    private static final int PARTITIONS = 6;
    private static final int RATE = Integer.getInteger("bench.rate", 3_000);
    private static final long SECONDS = Long.getLong("bench.seconds", 180);
    private static final String APP = "bench-live";
    private static final String GROUP = StreamsFactory.applicationId(APP);
    private static final String JOIN_BUFFER_CHANGELOG = StreamsFactory.changelogTopic(APP, MeteringTopology.JOIN_BUFFER_STORE);
    private static final String DEDUPE_CHANGELOG = StreamsFactory.changelogTopic(APP, MeteringTopology.DEDUPE_STORE);

    private final String bootstrap = SharedKafka.bootstrapServers();

    @Test
    void liveTrafficThenRestart() throws Exception {
        createTopics();
        Path dataDir = TempDirs.create("keymeter-live");
        KeymeterProperties properties = new KeymeterProperties(List.of("metering"), dataDir, null, null, null, null,
                null, MeteringBenchSettings.metering(), null, null, null);
        MeteringSettings settings = MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, PARTITIONS);
        Properties config = StreamsFactory.config(Map.of("bootstrap.servers", bootstrap), properties, APP, Map.of());

        long sent;
        try (KafkaStreams streams = new KafkaStreams(MeteringTopology.build(settings, new SimpleMeterRegistry()), config); Admin admin = admin()) {
            streams.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> streams.state() == KafkaStreams.State.RUNNING);
            long start = System.nanoTime();
            sent = sendLive();
            Figures.print("live.requests", sent, "requests");
            Figures.print("live.rate", sent / ((System.nanoTime() - start) / 1e9), "requests/s");
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                    .until(() -> ConsumerGroups.committed(admin, GROUP, Topics.REQUESTS.name()) >= sent);
            streams.close(Duration.ofSeconds(30));
        }
        printChangelog("join-buffer", JOIN_BUFFER_CHANGELOG, sent);
        printChangelog("dedupe", DEDUPE_CHANGELOG, sent);

        Map<String, AtomicLong> restored = new ConcurrentHashMap<>();
        Set<TopicPartition> bufferDone = ConcurrentHashMap.newKeySet();
        try (KafkaStreams streams = new KafkaStreams(MeteringTopology.build(settings, new SimpleMeterRegistry()), config)) {
            streams.setGlobalStateRestoreListener(new StateRestoreListener() {
                @Override
                public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
                }

                @Override
                public void onBatchRestored(TopicPartition partition, String store, long endOffset, long records) {
                    restored.computeIfAbsent(store, s -> new AtomicLong()).addAndGet(records);
                }

                @Override
                public void onRestoreEnd(TopicPartition partition, String store, long records) {
                    if (store.equals(MeteringTopology.JOIN_BUFFER_STORE)) {
                        bufferDone.add(partition);
                    }
                }
            });
            long start = System.nanoTime();
            streams.start();
            await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(10))
                    .until(() -> bufferDone.size() == PARTITIONS);
            Figures.print("live.restart.join-buffer-restored-after", (System.nanoTime() - start) / 1e9, "s");
            restored.forEach((store, records) -> Figures.print("live.restart.restored." + store, records.get(), "records"));
            streams.close(Duration.ofSeconds(30));
        }
    }

    /** Requests stamped at the moment they are sent, paced to {@link #RATE} a second, distinct ids. */
    private long sendLive() {
        long total = RATE * SECONDS;
        long start = System.nanoTime();
        SyntheticRequests.send(bootstrap, Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), total, "live-", i -> {
                    long wait = start + i * TimeUnit.SECONDS.toNanos(1) / RATE - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    return Instant.now();
                });
        return total;
    }

    private void printChangelog(String label, String topic, long sent) throws Exception {
        long[] putsAndTombstones = countChangelog(topic);
        Figures.print("live." + label + "-changelog.puts", putsAndTombstones[0], "records");
        Figures.print("live." + label + "-changelog.tombstones", putsAndTombstones[1], "records");
        Figures.print("live." + label + "-changelog.records-per-request",
                (double) (putsAndTombstones[0] + putsAndTombstones[1]) / sent, "records");
    }

    /** Committed puts and tombstones in a changelog, read from its beginning as a restore reads it. */
    private long[] countChangelog(String topic) throws Exception {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
        long[] counts = new long[2];
        try (Admin admin = admin(); KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config,
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            Map<TopicPartition, Long> ends = KafkaTopics.endOffsets(admin, List.of(topic),
                    IsolationLevel.READ_COMMITTED, Duration.ofSeconds(30));
            consumer.assign(ends.keySet());
            consumer.seekToBeginning(ends.keySet());
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (ends.keySet().stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                assertThat(System.nanoTime()).as("changelog read to its end").isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    counts[record.value() == null ? 1 : 0]++;
                }
            }
        }
        return counts;
    }

    private void createTopics() throws Exception {
        try (Admin admin = admin()) {
            BenchTopics.create(admin, PARTITIONS, List.of());
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }
}
