package io.keymeter.metering.backlog;

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
 * How far a consumer group is behind a topic, from Kafka alone (any instance can ask): per partition, the last
 * stable offset (what a read_committed reader can reach) less the group's committed offset, or less the log's start
 * when the group has committed none there. Counted in offsets, which are records plus a transaction marker per
 * transaction that wrote the partition, so an idle topic written by ingest's transactions reads a handful behind
 * at most, never less than 0.
 */
final class BacklogReader {

    private final Admin admin;
    private final Duration timeout;

    BacklogReader(Admin admin, Duration timeout) {
        this.admin = admin;
        this.timeout = timeout;
    }

    long behind(String groupId, String topic) throws ExecutionException, InterruptedException, TimeoutException {
        List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> stable = offsets(partitions, OffsetSpec.latest());
        List<TopicPartition> uncommitted = partitions.stream().filter(p -> committed.get(p) == null).toList();
        Map<TopicPartition, ListOffsetsResultInfo> starts = uncommitted.isEmpty() ? Map.of()
                : offsets(uncommitted, OffsetSpec.earliest());
        long behind = 0;
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata done = committed.get(partition);
            long from = done != null ? done.offset() : starts.get(partition).offset();
            behind += Math.max(0, stable.get(partition).offset() - from);
        }
        return behind;
    }

    private Map<TopicPartition, ListOffsetsResultInfo> offsets(List<TopicPartition> partitions, OffsetSpec spec)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> specs = partitions.stream()
                .collect(Collectors.toMap(Function.identity(), p -> spec));
        return admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
