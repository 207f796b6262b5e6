package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.metering.MeteringSerdes;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filters never say "not there" for a key of their generation that the store holds, and say it for nearly every
 * other key of a generation they know. The deduplicator's behaviour with and without them is in
 * {@code DeduplicatorTest}.
 */
class SeenRequestFiltersTest {

    private static final long G = 20_000;
    private static final int KEYS = 1_000;

    @TempDir
    Path stateDir;

    private KeyValueStore<Bytes, Long> store;

    @BeforeEach
    void openStore() {
        MockProcessorContext<Object, Object> context = MockContexts.inDir("filters-test", stateDir);
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("seen"), MeteringSerdes.BYTES,
                MeteringSerdes.LONG).withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void anAddedKeyIsMaybeAndNearlyEveryOtherKeyOfAKnownGenerationIsNo() {
        SeenRequestFilters filters = new SeenRequestFilters(10_000, 2);
        IntStream.range(0, KEYS).forEach(i -> filters.add(G, key(G, "seen-" + i)));

        assertThat(IntStream.range(0, KEYS).filter(i -> !filters.mightContain(G, key(G, "seen-" + i)))).isEmpty();
        // 1 % false positives at capacity; a tenth of it filled: far fewer
        assertThat(IntStream.range(0, KEYS).filter(i -> filters.mightContain(G, key(G, "other-" + i))).count())
                .isLessThan(10);
        assertThat(filters.mightContain(G - 1, key(G - 1, "seen-0"))).as("a generation nothing was written to").isFalse();
    }

    @Test
    void onlyTheCurrentAndThePreviousGenerationAreKept() {
        SeenRequestFilters filters = new SeenRequestFilters(10_000, 2);
        filters.add(G, key(G, "a"));
        filters.add(G + 1, key(G + 1, "b"));
        filters.add(G + 2, key(G + 2, "c"));

        assertThat(filters.filters()).isEqualTo(2);
        assertThat(filters.mightContain(G + 1, key(G + 1, "b"))).isTrue();
    }

    @Test
    void afterARestartTheNewestTwoGenerationsInTheStoreAreMaybeUntilReadBack() {
        IntStream.range(0, KEYS).forEach(i -> {
            store.put(key(G - 2, "expired-" + i), 1L);
            store.put(key(G - 1, "previous-" + i), 1L);
            store.put(key(G, "current-" + i), 1L);
        });
        SeenRequestFilters filters = new SeenRequestFilters(10_000, 2);
        filters.restart(G);
        filters.add(G, key(G, "after-restart"));

        assertThat(filters.mightContain(G, key(G, "never-written"))).isTrue();
        assertThat(filters.mightContain(G - 1, key(G - 1, "never-written"))).isTrue();
        assertThat(filters.mightContain(G + 1, key(G + 1, "never-written"))).as("written only from now on").isFalse();

        int calls = 0;
        while (filters.rebuilding()) {
            filters.rebuild(store, 300);
            calls++;
        }

        assertThat(calls).as("2,000 entries from generation G - 1 on, 300 a call").isEqualTo(7);
        assertThat(IntStream.range(0, KEYS).filter(i -> !filters.mightContain(G - 1, key(G - 1, "previous-" + i))
                || !filters.mightContain(G, key(G, "current-" + i)))).isEmpty();
        assertThat(filters.mightContain(G, key(G, "after-restart"))).isTrue();
        assertThat(IntStream.range(0, KEYS).filter(i -> filters.mightContain(G, key(G, "other-" + i))).count())
                .isLessThan(10);
        assertThat(filters.filters()).as("generation G - 2 is not read back").isEqualTo(2);
    }

    @Test
    void withASpanOfThreeThreeGenerationsAreKeptAndReadBackAndTheStoredLengthIsNotAnEntry() {
        IntStream.range(0, KEYS).forEach(i -> {
            store.put(key(G - 3, "expired-" + i), 1L);
            store.put(key(G - 2, "older-" + i), 1L);
            store.put(key(G - 1, "previous-" + i), 1L);
            store.put(key(G, "current-" + i), 1L);
        });
        store.put(Deduplicator.GENERATION_LENGTH_KEY, 5_000L);
        SeenRequestFilters filters = new SeenRequestFilters(10_000, 3);
        filters.restart(G);

        assertThat(filters.mightContain(G - 2, key(G - 2, "never-written"))).isTrue();
        while (filters.rebuilding()) {
            filters.rebuild(store, 700);
        }

        assertThat(IntStream.range(0, KEYS).filter(i -> !filters.mightContain(G - 2, key(G - 2, "older-" + i))
                || !filters.mightContain(G - 1, key(G - 1, "previous-" + i))
                || !filters.mightContain(G, key(G, "current-" + i)))).isEmpty();
        assertThat(filters.filters()).as("G - 3 is not read back, the stored length makes none").isEqualTo(3);
        filters.add(G + 1, key(G + 1, "next"));
        assertThat(filters.filters()).as("G - 2 dropped once G + 1 has one").isEqualTo(3);
        assertThat(filters.mightContain(G - 1, key(G - 1, "previous-0"))).isTrue();
    }

    @Test
    void withoutCapacityEveryKeyIsMaybe() {
        SeenRequestFilters filters = new SeenRequestFilters(0, 2);
        filters.add(G, key(G, "a"));

        assertThat(filters.mightContain(G, key(G, "b"))).isTrue();
        assertThat(filters.mightContain(G + 5, key(G + 5, "c"))).isTrue();
        assertThat(filters.filters()).isZero();
    }

    @Test
    void aFilterFilledFourTimesOverSaysMaybeToEverything() {
        SeenRequestFilters filters = new SeenRequestFilters(100, 2);
        IntStream.range(0, 399).forEach(i -> filters.add(G, key(G, "seen-" + i)));
        long before = IntStream.range(0, KEYS).filter(i -> filters.mightContain(G, key(G, "other-" + i))).count();
        assertThat(filters.saturated()).isZero();
        filters.add(G, key(G, "seen-399"));

        assertThat(before).as("crowded, but still a filter").isLessThan(KEYS);
        assertThat(IntStream.range(0, KEYS).filter(i -> filters.mightContain(G, key(G, "other-" + i))).count())
                .isEqualTo(KEYS);
        // warned of once, when it stepped aside; the next generation's filter is another
        assertThat(filters.saturated()).isEqualTo(1);
        IntStream.range(400, 500).forEach(i -> filters.add(G, key(G, "seen-" + i)));
        assertThat(filters.saturated()).isEqualTo(1);
        IntStream.range(0, 400).forEach(i -> filters.add(G + 1, key(G + 1, "next-" + i)));
        assertThat(filters.saturated()).isEqualTo(2);
    }

    private static Bytes key(long generation, String requestId) {
        return Deduplicator.key(generation, Deduplicator.identity("key-1", requestId));
    }
}
