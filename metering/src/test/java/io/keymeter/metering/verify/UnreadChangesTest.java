package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class UnreadChangesTest {

    private static final TopicPartition P0 = new TopicPartition("keymeter.api-keys", 0);
    private static final TopicPartition P2 = new TopicPartition("keymeter.api-keys", 2);
    private static final Duration AFTER = Duration.ofMillis(500);
    private static final long MS = 1_000_000L;

    private final UnreadChanges unread = new UnreadChanges(100);

    @Test
    void aKeyWaitsOnlyOnceItsStateHasStayedUnreadForTheTimeAllowed() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 9, 0);

        assertThat(unread.waiting("k", AFTER, 499 * MS)).as("a commit takes a moment").isEmpty();
        assertThat(unread.waiting("k", AFTER, 500 * MS)).hasValue(new UnreadChanges.Unread("k", P2, 9, 0));
        assertThat(unread.waiting("other", AFTER, 500 * MS)).as("a key with nothing unread").isEmpty();
        assertThat(unread.size()).isEqualTo(1);
    }

    @Test
    void aStateTheCommittedReaderHasReadIsForgotten() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 9, 0);
        unread.readTo(Map.of(P2, 9L));
        assertThat(unread.waiting("k", AFTER, 10_000 * MS)).as("offset 9 is the next to read").isPresent();

        unread.readTo(Map.of(P2, 10L));
        assertThat(unread.waiting("k", AFTER, 10_000 * MS)).isEmpty();
        assertThat(unread.size()).isZero();
        assertThat(unread.heldLongerThan(AFTER, 10_000 * MS)).isEmpty();
    }

    @Test
    void statesAlreadyReadOrSeenBeforeAreNotNoted() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("read", P2, 6, 0);
        unread.seen("k", P2, 8, 0);
        unread.seen("k", P2, 8, 0); // the reader ahead started over
        unread.seen(null, P2, 9, 0);

        assertThat(unread.waiting("read", AFTER, 10_000 * MS)).isEmpty();
        assertThat(unread.size()).isEqualTo(1);
    }

    @Test
    void aKeyWithTwoStatesUnreadWaitsFromTheOlderUntilBothAreRead() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 8, 0);
        unread.seen("other", P2, 9, 100 * MS);
        unread.seen("k", P2, 10, 400 * MS);

        assertThat(unread.waiting("k", AFTER, 500 * MS)).hasValue(new UnreadChanges.Unread("k", P2, 8, 0));
        unread.readTo(Map.of(P2, 9L));
        assertThat(unread.waiting("k", AFTER, 500 * MS)).as("its newer state seen 100 ms ago").isEmpty();
        assertThat(unread.waiting("k", AFTER, 900 * MS)).hasValue(new UnreadChanges.Unread("k", P2, 10, 400 * MS));
        assertThat(unread.waiting("other", AFTER, 900 * MS)).isPresent();
        unread.readTo(Map.of(P2, 11L));
        assertThat(unread.waiting("k", AFTER, 900 * MS)).isEmpty();
        assertThat(unread.waiting("other", AFTER, 900 * MS)).isEmpty();
    }

    @Test
    void aPartitionIsHeldOnceItsOldestUnreadStateHasWaitedTheTimeGiven() {
        unread.readTo(Map.of(P0, 3L, P2, 7L));
        unread.seen("k", P2, 9, 0);
        unread.seen("j", P0, 3, 50_000 * MS);

        assertThat(unread.heldLongerThan(Duration.ofSeconds(60), 59_999 * MS)).isEmpty();
        assertThat(unread.heldLongerThan(Duration.ofSeconds(60), 60_000 * MS)).containsExactly(Map.entry(P2, 7L));
        assertThat(unread.heldLongerThan(Duration.ofSeconds(10), 60_000 * MS))
                .containsExactly(Map.entry(P0, 3L), Map.entry(P2, 7L));
    }

    @Test
    void pastItsCapacityAPartitionCountsAsOverflowedUntilReadPastTheLastStateDropped() {
        UnreadChanges small = new UnreadChanges(2);
        small.readTo(Map.of(P0, 0L, P2, 0L));
        small.seen("a", P2, 0, 0);
        small.seen("b", P2, 1, 0);
        assertThat(small.overflowed(AFTER, 10_000 * MS)).isEmpty();
        small.seen("c", P2, 2, 100 * MS);
        small.seen("d", P2, 3, 200 * MS);

        assertThat(small.overflowed(AFTER, 599 * MS)).as("a burst read at once").isEmpty();
        assertThat(small.overflowed(AFTER, 600 * MS)).containsExactly(Map.entry(P2, 3L));
        small.readTo(Map.of(P2, 2L));
        assertThat(small.heldLongerThan(Duration.ofSeconds(60), 60_099 * MS)).as("overflowed 59.999 s ago").isEmpty();
        assertThat(small.heldLongerThan(Duration.ofSeconds(60), 60_100 * MS)).containsExactly(Map.entry(P2, 2L));

        // room again: tracked one by one, and the mark stays where the last state was dropped
        small.seen("e", P2, 4, 700 * MS);
        small.seen("f", P2, 5, 700 * MS);
        assertThat(small.overflowed(AFTER, 1_200 * MS)).containsExactly(Map.entry(P2, 3L));
        small.readTo(Map.of(P2, 4L));
        assertThat(small.overflowed(AFTER, 1_200 * MS)).as("read past what was dropped").isEmpty();
        assertThat(small.waiting("e", AFTER, 1_200 * MS)).isPresent();
        assertThat(small.waiting("c", AFTER, 1_200 * MS)).as("dropped, never tracked").isEmpty();
        small.readTo(Map.of(P2, 6L));
        assertThat(small.size()).isZero();
    }

    @Test
    void aPartitionStaysOverflowedWhileTheLastStateDroppedIsTheNextToRead() {
        UnreadChanges small = new UnreadChanges(1);
        small.readTo(Map.of(P2, 0L));
        small.seen("a", P2, 0, 0);
        small.seen("b", P2, 1, 0);
        small.seen("c", P2, 2, 0);

        small.readTo(Map.of(P2, 2L));
        assertThat(small.overflowed(AFTER, 1_000 * MS)).as("offset 2, dropped, is still unread")
                .containsExactly(Map.entry(P2, 2L));
        assertThat(small.heldLongerThan(AFTER, 1_000 * MS)).containsExactly(Map.entry(P2, 2L));
        small.readTo(Map.of(P2, 3L));
        assertThat(small.overflowed(AFTER, 1_000 * MS)).isEmpty();
        assertThat(small.heldLongerThan(AFTER, 1_000 * MS)).isEmpty();
    }

    @Test
    void clearedItForgetsEverything() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 9, 0);
        unread.clear();

        assertThat(unread.waiting("k", AFTER, 10_000 * MS)).isEmpty();
        assertThat(unread.size()).isZero();
        assertThat(unread.readPosition(P2)).isZero();
    }

    @Test
    void clearedItForgetsTheHeldAndOverflowedPartitions() {
        UnreadChanges small = new UnreadChanges(1);
        small.readTo(Map.of(P0, 0L, P2, 7L));
        small.seen("k", P2, 9, 0);
        small.seen("j", P0, 3, 0);
        assertThat(small.heldLongerThan(AFTER, 10_000 * MS)).containsExactly(Map.entry(P0, 0L), Map.entry(P2, 7L));

        small.clear();
        assertThat(small.heldLongerThan(AFTER, 10_000 * MS)).isEmpty();
        assertThat(small.overflowed(AFTER, 10_000 * MS)).isEmpty();
        small.readTo(Map.of(P0, 0L, P2, 0L));
        assertThat(small.heldLongerThan(AFTER, 10_000 * MS)).as("nothing seen since").isEmpty();
        assertThat(small.overflowed(AFTER, 10_000 * MS)).isEmpty();
        assertThat(small.size()).isZero();
    }

    /** The reader ahead starts over from the committed reader's positions: what it sees again is noted again. */
    @Test
    void clearedAStateSeenBeforeIsNotedWhenSeenAgain() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 9, 0);
        unread.clear();

        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 9, 1_000 * MS);
        assertThat(unread.waiting("k", AFTER, 1_500 * MS)).hasValue(new UnreadChanges.Unread("k", P2, 9, 1_000 * MS));
        assertThat(unread.size()).isEqualTo(1);
    }

    @Test
    void clearedAKeySeenAgainAndReadWaitsNoLonger() {
        unread.readTo(Map.of(P2, 7L));
        unread.seen("k", P2, 8, 0);
        unread.clear();

        unread.readTo(Map.of(P2, 9L));
        unread.seen("k", P2, 9, 1_000 * MS);
        unread.readTo(Map.of(P2, 10L));
        assertThat(unread.waiting("k", AFTER, 10_000 * MS)).as("its state from before was read too").isEmpty();
        assertThat(unread.size()).isZero();
    }
}
