package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.streams.OpenTransaction.CoordinatorView;
import io.keymeter.platform.streams.StuckTopologyWatch.Watched;
import io.keymeter.platform.testing.MovableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;

/**
 * When a topology out of RUNNING gets its group's open transactions named in the log, when a running one gets those
 * open on what it reads named, and in which words.
 */
class StuckTopologyWatchTest {

    private static final TopicPartition OFFSETS = new TopicPartition("__consumer_offsets", 3);
    private static final OpenTransaction HANGING = new OpenTransaction(OFFSETS, 12, 1, 345, Duration.ofMinutes(20),
            Optional.of("keymeter-metering-p-1"), Optional.of(new CoordinatorView("Empty", Set.of(),
            Optional.empty())));
    private static final OpenTransaction ONGOING = new OpenTransaction(OFFSETS, 13, 0, 346, Duration.ofMinutes(5),
            Optional.of("keymeter-metering-p-2"), Optional.of(new CoordinatorView("Ongoing", Set.of(OFFSETS),
            Optional.of(Instant.parse("2026-12-06T09:13:00Z")))));
    private static final OpenTransaction OTHER_GROUPS = new OpenTransaction(OFFSETS, 14, 0, 347,
            Duration.ofMinutes(30), Optional.of("keymeter-billing-p-1"), Optional.of(new CoordinatorView("Empty",
            Set.of(), Optional.empty())));

    private static final TopicPartition REQUESTS = new TopicPartition("keymeter.requests", 2);
    private static final Set<TopicPartition> READS = Set.of(REQUESTS, new TopicPartition("keymeter.api-keys", 2));

    /** Left open by a direct producer on a partition metering reads, its coordinator done with it. */
    private static final OpenTransaction HANGING_ON_REQUESTS = new OpenTransaction(REQUESTS, 21, 4, 9000,
            Duration.ofDays(3), Optional.of("gateway-7"), Optional.of(new CoordinatorView("CompleteAbort", Set.of(),
            Optional.empty())));

    /** Another instance's, committing as the broker is asked. */
    private static final OpenTransaction COMMITTING = new OpenTransaction(OFFSETS, 15, 3, 348, Duration.ofSeconds(59),
            Optional.of("keymeter-metering-q-1"), Optional.empty());

    private final AtomicReference<State> state = new AtomicReference<>(State.REBALANCING);
    private final List<String> searched = new ArrayList<>();
    private List<OpenTransaction> open = List.of(HANGING);
    private List<OpenTransaction> openOnReads = List.of();
    private boolean kafkaAnswers = true;

    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-06T09:00:00Z"));

    private final StuckTopologyWatch watch = new StuckTopologyWatch(List.of(new Watched("metering",
            "keymeter-metering", state::get, () -> READS)), new StuckTopologyWatch.Finder() {
                @Override
                public List<OpenTransaction> onOffsetsOf(String group) {
                    searched.add(group);
                    return open;
                }

                @Override
                public List<OpenTransaction> on(Collection<TopicPartition> partitions) throws Exception {
                    assertThat(partitions).isEqualTo(READS);
                    if (kafkaAnswers) {
                        return openOnReads;
                    }
                    throw new java.util.concurrent.TimeoutException("no answer");
                }
            }, clock, "localhost:9092", Optional.of("data/kafka-client.properties"), null);

    private void after(Duration elapsed) {
        clock.advance(elapsed);
    }

    @Test
    void aTopologyRebalancingForTwoMinutesGetsAHangingTransactionNamedWithTheCommandThatEndsIt() {
        assertThat(watch.check()).isEmpty();
        after(StuckTopologyWatch.STUCK_AFTER.minusSeconds(1));
        assertThat(watch.check()).as("a rebalance takes its time").isEmpty();
        assertThat(searched).isEmpty();

        after(Duration.ofSeconds(1));
        assertThat(watch.check()).containsExactly("metering has been REBALANCING for 2 min, and a transaction of "
                + "producer 12 (epoch 1, transactional id keymeter-metering-p-1) open on __consumer_offsets-3 from "
                + "offset 345, last written 1200 s ago; its coordinator holds it Empty without this partition. Until it"
                + " ends, metering cannot read its committed offsets. It hangs: nothing will end it but an abort, "
                + "`kafka-transactions.sh --bootstrap-server localhost:9092"
                + " --command-config data/kafka-client.properties abort --topic __consumer_offsets --partition 3"
                + " --start-offset 345` (README: \"A topology that stays"
                + " REBALANCING\").");
        assertThat(searched).containsExactly("keymeter-metering");
    }

    @Test
    void theWarningIsRepeatedEveryTenMinutesWhileItLasts() {
        watch.check();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).hasSize(1);
        after(StuckTopologyWatch.WARN_EVERY.minusSeconds(1));
        assertThat(watch.check()).isEmpty();
        after(Duration.ofSeconds(1));
        assertThat(watch.check()).singleElement().asString().startsWith("metering has been REBALANCING for 12 min");
    }

    @Test
    void runningAgainStartsTheCountAfresh() {
        watch.check();
        after(Duration.ofSeconds(90));
        state.set(State.RUNNING);
        assertThat(watch.check()).isEmpty();
        state.set(State.REBALANCING);
        after(Duration.ofSeconds(30));
        assertThat(watch.check()).as("two minutes out of RUNNING in all, but not in one go").isEmpty();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).hasSize(1);
    }

    @Test
    void aTopologyNotStartedOrStoppedIsLeftToHealth() {
        for (State other : List.of(State.CREATED, State.ERROR, State.NOT_RUNNING, State.PENDING_SHUTDOWN)) {
            state.set(other);
            watch.check();
            after(StuckTopologyWatch.STUCK_AFTER.plusMinutes(1));
            assertThat(watch.check()).as(other.name()).isEmpty();
        }
        assertThat(searched).isEmpty();
    }

    @Test
    void anOngoingTransactionOfItsOwnIsNamedWithoutAnAbortAndAnotherGroupsOrAFreshOneIsNotNamed() {
        open = List.of(ONGOING, OTHER_GROUPS, COMMITTING);
        watch.check();
        after(StuckTopologyWatch.STUCK_AFTER);

        assertThat(watch.check()).singleElement().asString().contains("producer 13 (epoch 0, transactional id "
                + "keymeter-metering-p-2)").endsWith("Its producer may still end it, or its coordinator at its "
                + "timeout, 2026-12-06T09:13:00Z.").doesNotContain("abort");
    }

    @Test
    void nothingOpenOrKafkaNotAnsweringIsNotAWarningAndTheNextCheckLooksAgain() {
        open = List.of();
        watch.check();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).isEmpty();
        StuckTopologyWatch failing = new StuckTopologyWatch(List.of(new Watched("metering", "keymeter-metering",
                state::get, () -> READS)), new StuckTopologyWatch.Finder() {
                    @Override
                    public List<OpenTransaction> onOffsetsOf(String group) throws Exception {
                        throw new java.util.concurrent.TimeoutException("no answer");
                    }

                    @Override
                    public List<OpenTransaction> on(Collection<TopicPartition> partitions) throws Exception {
                        throw new java.util.concurrent.TimeoutException("no answer");
                    }
                }, clock, "localhost:9092", Optional.empty(), null);
        failing.check();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(failing.check()).isEmpty();

        open = List.of(HANGING);
        after(Duration.ofSeconds(30));
        assertThat(watch.check()).as("nothing was said, so nothing waits ten minutes").hasSize(1);
    }

    @Test
    void aTransactionOpenFromTheSameOffsetForTwoMinutesOnAPartitionItReadsIsNamedWithTheCommandThatEndsIt() {
        state.set(State.RUNNING);
        openOnReads = List.of(HANGING_ON_REQUESTS);
        assertThat(watch.check()).isEmpty();
        after(StuckTopologyWatch.STUCK_AFTER.minusSeconds(1));
        assertThat(watch.check()).as("a gateway's transaction may take a while").isEmpty();

        after(Duration.ofSeconds(1));
        assertThat(watch.check()).containsExactly("metering reads keymeter.requests-2 no further than offset 9000: a "
                + "transaction of producer 21 (epoch 4, transactional id gateway-7) has been open there from that "
                + "offset for at least 2 min; its coordinator holds it CompleteAbort without this partition. Until it "
                + "ends, the records after it wait, committed or not. It hangs: nothing will end it but an abort, "
                + "`kafka-transactions.sh --bootstrap-server localhost:9092 --command-config "
                + "data/kafka-client.properties abort --topic keymeter.requests --partition 2 --start-offset 9000` "
                + "(README: \"A partition a topology reads no further\").");
        assertThat(searched).as("RUNNING: its offsets are readable").isEmpty();

        after(StuckTopologyWatch.WARN_EVERY.minusSeconds(1));
        assertThat(watch.check()).isEmpty();
        after(Duration.ofSeconds(1));
        assertThat(watch.check()).singleElement().asString().contains("for at least 12 min");
    }

    @Test
    void transactionsThatEndAndTheirProducersNextOnesAreNotNamed() {
        state.set(State.RUNNING);
        for (int i = 0; i < 10; i++) { // a gateway committing every 30 s: open at every look, never the same one
            openOnReads = List.of(new OpenTransaction(REQUESTS, 21, 4, 9000 + 100L * i, Duration.ZERO,
                    Optional.of("gateway-7"), Optional.of(new CoordinatorView("Ongoing", Set.of(REQUESTS),
                    Optional.of(Instant.parse("2026-12-06T09:30:00Z"))))));
            assertThat(watch.check()).isEmpty();
            after(Duration.ofSeconds(30));
        }
        openOnReads = List.of(HANGING_ON_REQUESTS);
        watch.check();
        after(Duration.ofSeconds(90));
        openOnReads = List.of();
        watch.check();
        after(Duration.ofSeconds(30));
        openOnReads = List.of(HANGING_ON_REQUESTS);
        assertThat(watch.check()).as("gone in between: counted afresh").isEmpty();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).hasSize(1);
    }

    @Test
    void anOngoingOneIsNamedWithItsTimeoutAndEachOpenOneOnItsOwn() {
        state.set(State.RUNNING);
        OpenTransaction ongoing = new OpenTransaction(new TopicPartition("keymeter.api-keys", 2), 30, 0, 77,
                Duration.ofSeconds(5), Optional.of("keymeter-credential-store-x-1"), Optional.of(new CoordinatorView(
                "Ongoing", Set.of(new TopicPartition("keymeter.api-keys", 2)), Optional.of(Instant.parse(
                "2026-12-06T09:15:00Z")))));
        openOnReads = List.of(HANGING_ON_REQUESTS, ongoing);
        watch.check();
        after(StuckTopologyWatch.STUCK_AFTER);

        assertThat(watch.check()).hasSize(2).last().asString().startsWith("metering reads keymeter.api-keys-2 no "
                + "further than offset 77: a transaction of producer 30 (epoch 0, transactional id "
                + "keymeter-credential-store-x-1) has been open there").endsWith("holds it Ongoing with this "
                + "partition. Until it ends, the records after it wait, committed or not. Its producer may still end "
                + "it, or its coordinator at its timeout, 2026-12-06T09:15:00Z.");
    }

    @Test
    void aStoppedTopologyForgetsWhatItSawAndKafkaNotAnsweringForgetsNothing() {
        state.set(State.RUNNING);
        openOnReads = List.of(HANGING_ON_REQUESTS);
        watch.check();
        after(Duration.ofSeconds(60));
        state.set(State.REBALANCING);
        watch.check();
        state.set(State.RUNNING);
        after(Duration.ofSeconds(30));
        kafkaAnswers = false;
        assertThat(watch.check()).isEmpty();
        kafkaAnswers = true;
        after(Duration.ofSeconds(30));
        assertThat(watch.check()).as("a rebalance and a look without an answer in between").hasSize(1);

        state.set(State.ERROR);
        watch.check();
        state.set(State.RUNNING);
        assertThat(watch.check()).as("stopped in between: counted afresh").isEmpty();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).hasSize(1);
    }

    /** A gateway's transaction its coordinator lists to no one here (ACLs): not called hanging before Kafka would. */
    @Test
    void anUnlistedTransactionIsCalledHangingOnlyOncePastTheLongestTimeout() {
        state.set(State.RUNNING);
        openOnReads = List.of(new OpenTransaction(REQUESTS, 22, 0, 9100, Duration.ZERO, Optional.empty(),
                Optional.empty()));
        watch.check();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(watch.check()).singleElement().asString().contains("its coordinator lists no transaction of that "
                + "producer to Keymeter.").endsWith("Keymeter may not be allowed to describe that producer; if the "
                + "transaction is still open 15 minutes after it began (the brokers' transaction.max.timeout.ms by "
                + "default), it hangs, and `kafka-transactions.sh --bootstrap-server localhost:9092 --command-config "
                + "data/kafka-client.properties abort --topic keymeter.requests --partition 2 --start-offset 9100` "
                + "(README: \"A partition a topology reads no further\") ends it.");

        after(StuckTopologyWatch.WARN_EVERY);
        assertThat(watch.check()).singleElement().asString().contains("for at least 12 min").doesNotContain("It hangs");
        after(StuckTopologyWatch.WARN_EVERY);
        assertThat(watch.check()).singleElement().asString().contains("for at least 22 min").contains("It hangs: "
                + "nothing will end it but an abort, `kafka-transactions.sh");
    }
}
