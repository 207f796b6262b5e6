package io.keymeter.platform.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a consumer without a group assigned to every partition of one topic, including partitions added while it
 * runs, which it reads from their beginning. A consumer that assigned the partitions once at start never reads a
 * record sent to a partition added later: an invalidation or a reply routed there would be missed for good.
 * Not thread-safe: the consumer's own polling thread calls it.
 */
public final class AllPartitions {

    /**
     * How stale the consumer's view of the topic may get ({@code metadata.max.age.ms}, Kafka's default 5 min): a
     * partition added to the topic is read within about this long. One small metadata request each time.
     */
    public static final Duration METADATA_MAX_AGE = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(AllPartitions.class);

    private final String topic;
    private final Set<TopicPartition> assigned = new LinkedHashSet<>();

    public AllPartitions(String topic) {
        this.topic = topic;
    }

    /** Sets a consumer's configuration so that partitions added to the topic show up within the max age above. */
    public static void configure(Map<String, Object> consumerConfig) {
        consumerConfig.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) METADATA_MAX_AGE.toMillis());
    }

    /** Assigns every partition the topic has now and returns them; their positions are the caller's to set. */
    public List<TopicPartition> assign(Consumer<?, ?> consumer, Duration timeout) {
        assigned.clear();
        assigned.addAll(partitionsOf(consumer, timeout));
        consumer.assign(assigned);
        return List.copyOf(assigned);
    }

    /**
     * Seeks each of {@code partitions} to its position in {@code positions} (where a consumer before this one had
     * got to) and returns those without one, for the caller to place.
     */
    public static List<TopicPartition> seekToKnown(Consumer<?, ?> consumer, List<TopicPartition> partitions,
                                                   Map<TopicPartition, Long> positions) {
        List<TopicPartition> unknown = new ArrayList<>();
        for (TopicPartition partition : partitions) {
            Long position = positions.get(partition);
            if (position == null) {
                unknown.add(partition);
            } else {
                consumer.seek(partition, position);
            }
        }
        return unknown;
    }

    /**
     * Seeks {@code partitions} to their beginning, none when the list is empty: Kafka's {@code seekToBeginning} takes
     * an empty list as every assigned partition, so a reader started again after a failure, which knew every
     * position, reread its whole topic (the verify cache answered from states rebuilt from offset 0 meanwhile).
     */
    public static void seekToBeginning(Consumer<?, ?> consumer, List<TopicPartition> partitions) {
        if (!partitions.isEmpty()) {
            consumer.seekToBeginning(partitions);
        }
    }

    /** As {@link #seekToBeginning}, to their end. */
    public static void seekToEnd(Consumer<?, ?> consumer, List<TopicPartition> partitions) {
        if (!partitions.isEmpty()) {
            consumer.seekToEnd(partitions);
        }
    }

    /** Notes the consumer's position in every partition it is assigned, for {@link #seekToKnown} after a failure. */
    public static void remember(Consumer<?, ?> consumer, Map<TopicPartition, Long> positions) {
        for (TopicPartition partition : consumer.assignment()) {
            positions.put(partition, consumer.position(partition));
        }
    }

    /**
     * Assigns partitions added to the topic since, from their beginning, and returns them (usually none). Reads the
     * consumer's cached metadata, so it costs nothing between refreshes; call it from the polling loop.
     */
    public List<TopicPartition> follow(Consumer<?, ?> consumer) {
        List<TopicPartition> now;
        try {
            now = partitionsOf(consumer, Duration.ZERO);
        } catch (TimeoutException e) {
            return List.of(); // the topic is not in the cached metadata yet: nothing to compare with
        }
        List<TopicPartition> added = new ArrayList<>();
        for (TopicPartition partition : now) {
            if (!assigned.contains(partition)) {
                added.add(partition);
            }
        }
        if (!added.isEmpty()) {
            assigned.addAll(added);
            consumer.assign(assigned);
            consumer.seekToBeginning(added);
            log.warn("{} now has {} partitions; reading the {} added ones from their beginning", topic,
                    assigned.size(), added.size());
        }
        return added;
    }

    private List<TopicPartition> partitionsOf(Consumer<?, ?> consumer, Duration timeout) {
        return consumer.partitionsFor(topic, timeout).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .sorted(Comparator.comparingInt(TopicPartition::partition))
                .toList();
    }
}
