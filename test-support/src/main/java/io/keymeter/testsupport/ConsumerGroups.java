package io.keymeter.testsupport;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Consumer-group progress, for waiting until an application has committed its input. */
public final class ConsumerGroups {

    private ConsumerGroups() {
    }

    /** Sum over {@code topic}'s partitions of the offsets {@code group} has committed (0 for a partition without). */
    public static long committed(Admin admin, String group, String topic) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
                .filter(e -> e.getValue() != null).mapToLong(e -> e.getValue().offset()).sum();
    }
}
