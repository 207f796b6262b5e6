package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.streams.OpenTransaction.CoordinatorView;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Kafka's test of a hanging transaction, and the words and command a stuck topology's warning gives. */
class OpenTransactionTest {

    private static final TopicPartition OFFSETS = new TopicPartition("__consumer_offsets", 7);

    private static OpenTransaction open(Optional<String> transactionalId, Optional<CoordinatorView> view) {
        return new OpenTransaction(OFFSETS, 4001, 1, 1234, Duration.ofMinutes(12), transactionalId, view);
    }

    @Test
    void aTransactionItsCoordinatorStillMarksHereDoesNotHang() {
        OpenTransaction ongoing = open(Optional.of("keymeter-metering-p1-1"), Optional.of(new CoordinatorView(
                "Ongoing", Set.of(new TopicPartition("keymeter.requests", 0), OFFSETS), Optional.empty())));

        assertThat(ongoing.hanging(Duration.ofHours(1))).isFalse();
        assertThat(ongoing.describe()).isEqualTo("a transaction of producer 4001 (epoch 1, transactional id "
                + "keymeter-metering-p1-1) open on __consumer_offsets-7 from offset 1234, last written 720 s ago; its "
                + "coordinator holds it Ongoing with this partition");
    }

    /** The probe's case: the coordinator held the id Empty, one epoch on, while the partition still held it open. */
    @Test
    void aTransactionItsCoordinatorHasEndedHangsAndOneItListsNotOnlyOncePastTheLongestTimeout() {
        Duration young = Duration.ofMinutes(2);
        assertThat(open(Optional.of("keymeter-metering-p1-1"), Optional.of(new CoordinatorView("Empty", Set.of(),
                Optional.empty()))).hanging(young)).isTrue();
        assertThat(open(Optional.of("keymeter-metering-p1-1"), Optional.of(new CoordinatorView("Ongoing",
                Set.of(new TopicPartition("__consumer_offsets", 8)), Optional.empty()))).hanging(young))
                .as("another partition's").isTrue();
        OpenTransaction gone = open(Optional.of("keymeter-metering-p1-1"), Optional.of(CoordinatorView.GONE));
        assertThat(gone.hanging(young)).as("listed, then no longer known").isTrue();
        assertThat(gone.coordinatorSays()).isEqualTo("its coordinator no longer knows that transactional id");
        // none listed: none, or not Keymeter's to describe (a gateway's, under ACLs): Kafka's own test waits it out
        OpenTransaction unlisted = open(Optional.of("gateway-1"), Optional.empty());
        assertThat(unlisted.hanging(young)).isFalse();
        assertThat(unlisted.hanging(OpenTransaction.LONGEST_TIMEOUT)).isFalse();
        assertThat(unlisted.hanging(OpenTransaction.LONGEST_TIMEOUT.plusSeconds(1))).isTrue();
        OpenTransaction orphan = open(Optional.empty(), Optional.empty());
        assertThat(orphan.hanging(Duration.ofMinutes(16))).isTrue();
        assertThat(orphan.describe()).endsWith("open on __consumer_offsets-7 from offset 1234, last written 720 s ago;"
                + " its coordinator lists no transaction of that producer to Keymeter").contains("(epoch 1)");
    }

    @Test
    void theAbortCommandNamesThePartitionAndStartOffsetAndTheClientFile() {
        OpenTransaction orphan = open(Optional.empty(), Optional.empty());

        assertThat(orphan.abortCommand("localhost:9092", Optional.of("data/kafka-client.properties"))).isEqualTo(
                "kafka-transactions.sh --bootstrap-server localhost:9092 --command-config data/kafka-client.properties"
                        + " abort --topic __consumer_offsets --partition 7 --start-offset 1234");
        assertThat(orphan.abortCommand("k1:9092,k2:9092", Optional.empty())).isEqualTo("kafka-transactions.sh"
                + " --bootstrap-server k1:9092,k2:9092 abort --topic __consumer_offsets --partition 7"
                + " --start-offset 1234");
    }

    /** The coordinator's abort comes the producer's timeout after the transaction started; none while none is open. */
    @Test
    void theCoordinatorsViewGivesItsStateItsPartitionsAndWhenItAborts() {
        TopicPartition requests = new TopicPartition("keymeter.requests", 0);
        assertThat(CoordinatorView.of(new TransactionDescription(1, TransactionState.ONGOING, 4001, 1, 60_000,
                OptionalLong.of(1_765_000_000_000L), Set.of(requests, OFFSETS)))).isEqualTo(new CoordinatorView(
                        "Ongoing", Set.of(requests, OFFSETS), Optional.of(Instant.ofEpochMilli(1_765_000_060_000L))));
        assertThat(CoordinatorView.of(new TransactionDescription(1, TransactionState.EMPTY, 4001, 2, 60_000,
                OptionalLong.empty(), Set.of()))).isEqualTo(new CoordinatorView("Empty", Set.of(), Optional.empty()));
    }

    /** Kafka Streams names a producer's transactional id after its application id, its group. */
    @Test
    void aTransactionMayHoldAGroupsOffsetsWhenItsProducerIsTheGroupsOwnOrUnknown() {
        assertThat(open(Optional.of("keymeter-metering-p1-1"), Optional.empty()).mayHoldOffsetsOf("keymeter-metering"))
                .isTrue();
        assertThat(open(Optional.of("keymeter-billing-p1-1"), Optional.empty()).mayHoldOffsetsOf("keymeter-metering"))
                .isFalse();
        assertThat(open(Optional.of("keymeter-metering"), Optional.empty()).mayHoldOffsetsOf("keymeter-metering"))
                .as("not a Streams id of that group").isFalse();
        assertThat(open(Optional.empty(), Optional.empty()).mayHoldOffsetsOf("keymeter-metering")).isTrue();
    }
}
