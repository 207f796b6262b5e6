package io.keymeter.testsupport;

import io.keymeter.events.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;

/**
 * Reads what is committed on a topic, from the beginning, the way a downstream {@code read_committed} consumer sees
 * it; or everything on it, open and aborted transactions included; or what aborted transactions left there.
 */
public final class TopicReader {

    private TopicReader() {
    }

    /** A record's headers as text (UTF-8), by name; the last of a name given twice. */
    public static Map<String, String> headers(ConsumerRecord<?, ?> record) {
        Map<String, String> headers = new HashMap<>();
        for (Header header : record.headers()) {
            headers.put(header.key(),
                    header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
        }
        return headers;
    }

    /**
     * Every committed record currently on the topic, in partition order. Records that do not deserialize are left
     * out: tests share topics, and some put poison records on them on purpose (read those with {@link #readRaw}).
     */
    public static <K, V> List<ConsumerRecord<K, V>> readAll(String bootstrapServers, Topic<K, V> topic) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> raw : readRaw(bootstrapServers, topic.name())) {
            K key;
            V value;
            try {
                key = raw.key() == null ? null : topic.keySerde().deserializer().deserialize(topic.name(), raw.key());
                value = raw.value() == null ? null : topic.valueSerde().deserializer().deserialize(topic.name(), raw.value());
            } catch (SerializationException e) {
                continue;
            }
            out.add(new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.timestamp(), raw.timestampType(),
                    raw.serializedKeySize(), raw.serializedValueSize(), key, value, raw.headers(), raw.leaderEpoch()));
        }
        return out;
    }

    /**
     * As {@link #readAll}, once every transaction that had written to the topic when called has ended. A producer's
     * commit returns once the coordinator has logged it, before its markers reach the partitions, so a
     * {@code read_committed} read right after a call that answered on that commit (ingest's 202) could miss the whole
     * batch: it did once in CI.
     */
    public static <K, V> List<ConsumerRecord<K, V>> readAllSettled(String bootstrapServers, Topic<K, V> topic) {
        awaitSettled(bootstrapServers, topic.name());
        return readAll(bootstrapServers, topic);
    }

    /** Waits until every transaction that had written to {@code topic} when called has ended, markers written. */
    private static void awaitSettled(String bootstrapServers, String topic) {
        try (KafkaConsumer<byte[], byte[]> uncommitted = consumer(bootstrapServers, false, Map.of());
                KafkaConsumer<byte[], byte[]> committed = consumer(bootstrapServers, true, Map.of())) {
            List<TopicPartition> partitions = partitions(uncommitted, topic);
            Map<TopicPartition, Long> logEnd = uncommitted.endOffsets(partitions);
            Awaitility.await("transactions on " + topic + " ended").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> committed.endOffsets(partitions).entrySet().stream()
                            .allMatch(stable -> stable.getValue() >= logEnd.get(stable.getKey())));
        }
    }

    /** Every committed record currently on the topic, as bytes. */
    public static List<ConsumerRecord<byte[], byte[]>> readRaw(String bootstrapServers, String topic) {
        return readRaw(bootstrapServers, topic, true);
    }

    /**
     * Every record currently on the topic, as bytes; with {@code committedOnly} false, records of aborted and open
     * transactions too ({@code read_uncommitted}), e.g. to show that a crash really left an aborted transaction.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readRaw(String bootstrapServers, String topic,
                                                               boolean committedOnly) {
        return readRaw(bootstrapServers, topic, committedOnly, Map.of());
    }

    /** As {@link #readRaw(String, String, boolean)}, signed in with {@code security} (an embedded broker's). */
    public static List<ConsumerRecord<byte[], byte[]>> readRaw(String bootstrapServers, String topic,
                                                               boolean committedOnly, Map<String, Object> security) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrapServers, committedOnly, security)) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!reachedEnd(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end in 30 s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    /**
     * Records on these topics that {@code read_uncommitted} sees and {@code read_committed} does not: those of aborted
     * transactions, counted once every transaction open on them at the call has ended (a committed one whose markers
     * were still on their way counted as aborted). A crash proof asserts it is positive, or its kills may all have
     * landed between transactions and proved nothing about recovering from one. Call it with their writers stopped.
     */
    public static long abortedRecords(String bootstrapServers, List<String> topics) {
        long aborted = 0;
        for (String topic : topics) {
            awaitSettled(bootstrapServers, topic);
            aborted += readRaw(bootstrapServers, topic, false).size() - readRaw(bootstrapServers, topic, true).size();
        }
        return aborted;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, boolean committedOnly,
                                                          Map<String, Object> security) {
        Map<String, Object> config = new java.util.HashMap<>(security);
        config.putAll(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, committedOnly ? "read_committed" : "read_uncommitted",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        // a new client's first metadata, on a loaded machine: Kafka's own default bound, not a tighter one
        return consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }
}
