package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.streams.OpenTransaction.CoordinatorView;
import io.keymeter.platform.streams.StuckTopologyWatch.Watched;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;

/** When a topology out of RUNNING gets its group's open transactions named in the log, and in which words. */
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

    /** Another instance's, committing as the broker is asked. */
    private static final OpenTransaction COMMITTING = new OpenTransaction(OFFSETS, 15, 3, 348, Duration.ofSeconds(59),
            Optional.of("keymeter-metering-q-1"), Optional.empty());

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-06T09:00:00Z"));
    private final AtomicReference<State> state = new AtomicReference<>(State.REBALANCING);
    private final List<String> searched = new ArrayList<>();
    private List<OpenTransaction> open = List.of(HANGING);

    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    private final StuckTopologyWatch watch = new StuckTopologyWatch(
            List.of(new Watched("metering", "keymeter-metering", state::get)), group -> {
                searched.add(group);
                return open;
            }, clock, "localhost:9092", Optional.of("data/kafka-client.properties"), null);

    private void after(Duration elapsed) {
        now.set(now.get().plus(elapsed));
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
                state::get)), group -> {
                    throw new java.util.concurrent.TimeoutException("no answer");
                }, clock, "localhost:9092", Optional.empty(), null);
        failing.check();
        after(StuckTopologyWatch.STUCK_AFTER);
        assertThat(failing.check()).isEmpty();

        open = List.of(HANGING);
        after(Duration.ofSeconds(30));
        assertThat(watch.check()).as("nothing was said, so nothing waits ten minutes").hasSize(1);
    }
}
