package io.keymeter.platform.streams;

import java.util.Optional;
import org.apache.kafka.streams.errors.StreamsException;

/**
 * Recognises the one stream-thread failure that a new thread cannot get past: Kafka Streams refusing an internal
 * topic whose partition count no longer matches the topics it is derived from. It happens when partitions are added
 * to a topic a topology reads (at once once the group sees the new count, and after every restart). Replacing the
 * thread meets it again, in a loop of rebalances and stack traces; nor may the topology go on, because a key's
 * requests and its key states, and every store, are laid out for the old count.
 */
final class PartitionLayoutChange {

    /** Kafka Streams 4.4's wording ({@code InternalTopicManager}); pinned by a test on a real broker. */
    static final String KAFKA_MESSAGE = "has invalid partitions";

    private PartitionLayoutChange() {
    }

    /** Kafka Streams' own message when {@code failure} is such a refusal. */
    static Optional<String> in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StreamsException && t.getMessage() != null && t.getMessage().contains(KAFKA_MESSAGE)) {
                return Optional.of(t.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Why application {@code name} stopped, for its log line and its health details. */
    static String reason(String name, String kafkaMessage) {
        return explained(name + " stopped: the partition count of a topic it reads changed (Kafka Streams: "
                + kafkaMessage + ")");
    }

    /** Why application {@code name} was not started: {@code mismatch} from {@link InternalTopicLayout}. */
    static String notStarted(String name, String mismatch) {
        return explained(name + " not started: " + mismatch);
    }

    private static String explained(String what) {
        return what + " Keymeter does not process records on a changed partitioning: a key's requests and its "
                + "states would no longer share a partition, and the stores are laid out for the old count. Records "
                + "wait in Kafka within their retention. See the README, \"Partition counts are fixed\".";
    }
}
