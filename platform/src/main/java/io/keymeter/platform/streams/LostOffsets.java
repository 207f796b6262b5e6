package io.keymeter.platform.streams;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Refuses to start a topology whose consumer group has no committed offsets while its changelogs hold committed state.
 * <p>
 * A topology's position in its topics is its group's committed offsets, and Kafka deletes those of a group that has
 * had no member for {@code offsets.retention.minutes} (7 days by default; an operator can also delete them). Kafka
 * Streams then starts again from the earliest record, and metering would bill every request older than the dedupe
 * window a second time, silently. Under exactly-once a changelog record is committed in the same transaction as the
 * offsets it follows, so committed state without committed offsets means the offsets were lost, not that the
 * topology never ran. A first run that crashed before its first commit left only aborted records: no committed state.
 */
final class LostOffsets {

    private LostOffsets() {
    }

    /** Why the topology must not start, if its offsets are lost; {@code existing}: topic names on the cluster. */
    static Optional<String> check(Admin admin, Map<String, Object> consumerConfig, String applicationId,
                                  Collection<String> existing, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (!admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS).isEmpty()) {
            return Optional.empty();
        }
        List<String> changelogs = existing.stream()
                .filter(t -> t.startsWith(applicationId + "-") && t.endsWith("-changelog")).sorted().toList();
        for (String changelog : changelogs) {
            if (holdsCommittedRecord(admin, consumerConfig, changelog, timeout)) {
                return Optional.of("its consumer group " + applicationId + " has no committed offsets, yet its "
                        + "changelog " + changelog + " holds committed state: the offsets were lost (Kafka deletes "
                        + "those of a group with no member for offsets.retention.minutes, 7 days by default). Started, "
                        + "it would read its topics again from the earliest record and count them again (metering: "
                        + "every request older than the dedupe window billed twice). Set the group's offsets to where "
                        + "it stopped (kafka-consumer-groups --group " + applicationId + " --reset-offsets --topic "
                        + "<each topic it reads> ... --execute), then restart it: README, \"Lost consumer offsets\".");
            }
        }
        return Optional.empty();
    }

    /** Whether a read_committed reader finds any record in the topic: aborted transactions are skipped. */
    private static boolean holdsCommittedRecord(Admin admin, Map<String, Object> consumerConfig, String topic,
                                                Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<String, Object> config = new HashMap<>(consumerConfig);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            return readsCommittedRecord(consumer, partitions, topic, timeout);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            // the client's own timeout, unchecked: as the admin's, so the start-up check is skipped with a warning
            // (StreamsFactory) instead of failing the application's start
            TimeoutException slow = new TimeoutException("reading " + topic + ": " + e.getMessage());
            slow.initCause(e);
            throw slow;
        }
    }

    private static boolean readsCommittedRecord(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions,
                                                String topic, Duration timeout) throws TimeoutException {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < ends.get(p))) {
            if (!consumer.poll(Duration.ofMillis(100)).isEmpty()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("reading " + topic + " took longer than " + timeout);
            }
        }
        return false;
    }
}
