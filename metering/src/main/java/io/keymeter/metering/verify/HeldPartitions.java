package io.keymeter.metering.verify;

import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The partitions a read_committed reader is held on: its position below the log's end and unmoved for
 * {@code heldAfter}. A transaction open on a partition keeps such a reader at its first record, committed records
 * behind it unread, for as long as it is open: a moment for a transaction being committed, until the coordinator's
 * timeout for one whose producer died (Kafka Streams' 10 s, checked every 10 s), for ever for a hanging one. Reader
 * thread only.
 */
final class HeldPartitions {

    private final long heldAfterNanos;
    /** Where each partition's reader stood below the log's end, and since when (nanoTime). */
    private final Map<TopicPartition, long[]> below = new HashMap<>();

    HeldPartitions(java.time.Duration heldAfter) {
        this.heldAfterNanos = heldAfter.toNanos();
    }

    /**
     * Notes the reader's positions and the log's ends at {@code now} (nanoTime), and returns the held partitions
     * with the offset each is held at, by partition number.
     */
    Map<TopicPartition, Long> update(Map<TopicPartition, Long> positions, Map<TopicPartition, Long> logEnds, long now) {
        below.keySet().retainAll(logEnds.keySet());
        Map<TopicPartition, Long> held = new LinkedHashMap<>();
        logEnds.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.comparingInt(TopicPartition::partition)))
                .forEach(end -> {
                    Long position = positions.get(end.getKey());
                    if (position == null || position >= end.getValue()) {
                        below.remove(end.getKey());
                        return;
                    }
                    long[] seen = below.get(end.getKey());
                    if (seen == null || seen[0] != position) {
                        below.put(end.getKey(), new long[] {position, now});
                    } else if (now - seen[1] >= heldAfterNanos) {
                        held.put(end.getKey(), position);
                    }
                });
        return held;
    }
}
