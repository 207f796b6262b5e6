package io.keymeter.metering.backlog;

import io.keymeter.platform.kafka.KafkaTopics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * How far a consumer group is behind a topic, from Kafka alone (any instance can ask): per partition, the log's end
 * less the group's committed offset, or less the log's start when the group has committed none there. The end, not
 * the last stable offset a read_committed reader can reach: a transaction left open holds back every record behind
 * it, and those must show here. Counted in offsets, which are records plus a transaction marker per transaction that
 * wrote the partition, so an idle topic written by ingest's transactions reads a handful behind at most, never less
 * than 0; a transaction still open counts its records at once.
 */
final class BacklogReader {

    private final Admin admin;
    private final Duration timeout;

    BacklogReader(Admin admin, Duration timeout) {
        this.admin = admin;
        this.timeout = timeout;
    }

    long behind(String groupId, String topic) throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Long> ends = KafkaTopics.endOffsets(admin, List.of(topic),
                IsolationLevel.READ_UNCOMMITTED, timeout);
        Map<TopicPartition, ListOffsetsResultInfo> starts = starts(ends.keySet().stream()
                .filter(p -> committed.get(p) == null).toList());
        long behind = 0;
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            OffsetAndMetadata done = committed.get(end.getKey());
            long from = done != null ? done.offset() : starts.get(end.getKey()).offset();
            behind += Math.max(0, end.getValue() - from);
        }
        return behind;
    }

    /** The log start of each partition the group has committed nothing in. */
    private Map<TopicPartition, ListOffsetsResultInfo> starts(List<TopicPartition> partitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> specs = partitions.stream()
                .collect(Collectors.toMap(Function.identity(), p -> OffsetSpec.earliest()));
        return admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
