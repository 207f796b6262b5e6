package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** When a read_committed reader counts as held on a partition, and when no longer. */
class HeldPartitionsTest {

    private static final long SECOND = 1_000_000_000L;
    private static final TopicPartition P0 = new TopicPartition("keymeter.api-keys", 0);
    private static final TopicPartition P2 = new TopicPartition("keymeter.api-keys", 2);
    private final HeldPartitions held = new HeldPartitions(Duration.ofSeconds(60));

    @Test
    void aPositionBelowTheEndAndUnmovedForTheWholeTimeIsHeld() {
        assertThat(held.update(Map.of(P0, 10L, P2, 40L), Map.of(P0, 10L, P2, 45L), 0)).isEmpty();
        assertThat(held.update(Map.of(P0, 12L, P2, 40L), Map.of(P0, 12L, P2, 47L), 59 * SECOND)).isEmpty();
        assertThat(held.update(Map.of(P0, 12L, P2, 40L), Map.of(P0, 13L, P2, 47L), 60 * SECOND))
                .containsExactly(Map.entry(P2, 40L));
        assertThat(held.update(Map.of(P0, 13L, P2, 48L), Map.of(P0, 13L, P2, 48L), 61 * SECOND))
                .as("read past it: ended").isEmpty();
    }

    @Test
    void aReaderThatMovesOrReachesTheEndInBetweenStartsTheCountAfresh() {
        held.update(Map.of(P2, 40L), Map.of(P2, 45L), 0);
        held.update(Map.of(P2, 41L), Map.of(P2, 45L), 30 * SECOND); // still reading: a backlog, not a hold
        assertThat(held.update(Map.of(P2, 41L), Map.of(P2, 46L), 89 * SECOND)).isEmpty();
        assertThat(held.update(Map.of(P2, 41L), Map.of(P2, 46L), 90 * SECOND)).containsOnlyKeys(P2);

        held.update(Map.of(P2, 46L), Map.of(P2, 46L), 91 * SECOND);
        assertThat(held.update(Map.of(P2, 46L), Map.of(P2, 50L), 100 * SECOND)).isEmpty();
        assertThat(held.update(Map.of(P2, 46L), Map.of(P2, 50L), 159 * SECOND)).as("a new hold counts afresh")
                .isEmpty();
        assertThat(held.update(Map.of(P2, 46L), Map.of(P2, 50L), 160 * SECOND)).containsOnlyKeys(P2);
    }

    @Test
    void aPartitionWithoutAPositionOrNoLongerAskedAboutIsNotHeld() {
        held.update(Map.of(P2, 40L), Map.of(P0, 5L, P2, 45L), 0);
        assertThat(held.update(Map.of(P2, 40L), Map.of(P0, 5L, P2, 45L), 60 * SECOND)).containsOnlyKeys(P2);
        assertThat(held.update(Map.of(), Map.of(P0, 5L), 61 * SECOND)).isEmpty();
        held.update(Map.of(P2, 40L), Map.of(P2, 45L), 62 * SECOND);
        assertThat(held.update(Map.of(P2, 40L), Map.of(P2, 45L), 63 * SECOND)).as("forgotten in between").isEmpty();
    }
}
