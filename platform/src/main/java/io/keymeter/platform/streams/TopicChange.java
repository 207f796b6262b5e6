package io.keymeter.platform.streams;

import java.util.Optional;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsException;

/**
 * Recognises the stream-thread failures that a new thread cannot get past, because a topic a topology reads changed
 * under it: partitions were added (Kafka Streams refuses the internal topics laid out for the old count) or the topic
 * was deleted. Replacing the thread meets the same failure again, in a loop of rebalances and stack traces, so the
 * topology is shut down instead, saying why. Nor may it go on after added partitions: a key's requests and its key
 * states, and every store, are laid out for the old count.
 */
final class TopicChange {

    /** Kafka Streams 4.4's wording ({@code InternalTopicManager}); pinned by a test on a real broker. */
    static final String PARTITIONS_CHANGED = "has invalid partitions";

    private TopicChange() {
    }

    /** Why application {@code name} must stop after {@code failure}, when a changed topic caused it. */
    static Optional<String> stopReason(String name, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof MissingSourceTopicException) {
                return Optional.of(name + " stopped: a topic it reads no longer exists (Kafka Streams: "
                        + t.getMessage() + "; the log names it). Its records are gone with it. Keymeter creates "
                        + "missing topics at start-up: restart it when the topic is meant to exist again.");
            }
            if (t instanceof StreamsException && t.getMessage() != null
                    && t.getMessage().contains(PARTITIONS_CHANGED)) {
                return Optional.of(explained(name + " stopped: the partition count of a topic it reads changed "
                        + "(Kafka Streams: " + t.getMessage() + ")"));
            }
        }
        return Optional.empty();
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
