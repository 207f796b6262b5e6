package io.keymeter.platform.streams;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * A transaction open on a partition, as its leader sees it, with what its coordinator says of the same producer.
 *
 * @param partition       where it is open
 * @param producerId      the producer that opened it
 * @param producerEpoch   the producer's epoch on that partition
 * @param startOffset     its first record there: what {@code kafka-transactions.sh abort} names
 * @param sinceLastWrite  how long ago the producer last wrote there
 * @param transactionalId the coordinator's transactional id for the producer, if it has one
 * @param coordinatorView the coordinator's state of that transactional id and the partitions it will still mark
 */
public record OpenTransaction(TopicPartition partition, long producerId, int producerEpoch, long startOffset,
                              Duration sinceLastWrite, Optional<String> transactionalId,
                              Optional<CoordinatorView> coordinatorView) {

    /**
     * What {@link TransactionDescription} says: the state, the partitions the coordinator has yet to mark, and when
     * it aborts the transaction unless its producer ends it first (none when none is open).
     */
    public record CoordinatorView(String state, Set<TopicPartition> partitions, Optional<Instant> timesOutAt) {

        /** The coordinator no longer knows the transactional id: it marks no partition, and never will. */
        public static final CoordinatorView GONE = new CoordinatorView("gone", Set.of(), Optional.empty());

        static CoordinatorView of(TransactionDescription description) {
            Optional<Instant> timesOutAt = description.transactionStartTimeMs().isPresent()
                    ? Optional.of(Instant.ofEpochMilli(description.transactionStartTimeMs().getAsLong()
                            + description.transactionTimeoutMs()))
                    : Optional.empty();
            return new CoordinatorView(description.state().toString(), Set.copyOf(description.topicPartitions()),
                    timesOutAt);
        }
    }

    /**
     * How long a transaction may last at most, by default: the brokers' {@code transaction.max.timeout.ms}, which
     * bounds every producer's timeout. One open longer is past any coordinator's abort.
     */
    public static final Duration LONGEST_TIMEOUT = Duration.ofMinutes(15);

    /**
     * Whether the broker holds it open while no coordinator will ever end it (Kafka's own test, as in
     * {@code kafka-transactions.sh find-hanging}): its coordinator's transaction no longer includes this partition
     * (completed, the marker never written here), or, when no coordinator lists a transaction of that producer (none
     * has one, or Keymeter may not describe it), it has been open for {@code openFor}, past {@link #LONGEST_TIMEOUT}.
     * Only an abort ends such a transaction; every read_committed reader of the partition, and every offset fetch of
     * its groups, waits until then.
     */
    public boolean hanging(Duration openFor) {
        return coordinatorView.map(view -> !view.partitions().contains(partition))
                .orElse(openFor.compareTo(LONGEST_TIMEOUT) > 0);
    }

    /**
     * Whether it may hold offsets {@code group} commits: the producer is one of the group's own (Kafka Streams names
     * its transactional ids after its application id, which is its group), or nothing says whose it is. Another
     * group's open transaction on the same partition keeps only that group's offsets unreadable.
     */
    public boolean mayHoldOffsetsOf(String group) {
        return transactionalId.map(id -> id.startsWith(group + "-")).orElse(true);
    }

    /** The command that ends it, on a cluster reached with {@code bootstrapServers} and the given client file. */
    public String abortCommand(String bootstrapServers, Optional<String> commandConfig) {
        return "kafka-transactions.sh --bootstrap-server " + bootstrapServers
                + commandConfig.map(file -> " --command-config " + file).orElse("")
                + " abort --topic " + partition.topic() + " --partition " + partition.partition()
                + " --start-offset " + startOffset;
    }

    /** One sentence for the log: where, since when, whose, and what the coordinator says of it. */
    public String describe() {
        return whose() + " open on " + partition + " from offset " + startOffset + ", last written "
                + sinceLastWrite.toSeconds() + " s ago; " + coordinatorSays();
    }

    /** Whose it is: "a transaction of producer 12 (epoch 1, transactional id ...)". */
    public String whose() {
        return "a transaction of producer " + producerId + " (epoch " + producerEpoch + transactionalId
                .map(id -> ", transactional id " + id).orElse("") + ")";
    }

    /** What its coordinator says of it, for the log. */
    public String coordinatorSays() {
        return "its coordinator " + coordinatorView.map(view -> view == CoordinatorView.GONE
                ? "no longer knows that transactional id" : "holds it " + view.state()
                + (view.partitions().contains(partition) ? " with this partition" : " without this partition"))
                .orElse("lists no transaction of that producer to Keymeter");
    }
}
