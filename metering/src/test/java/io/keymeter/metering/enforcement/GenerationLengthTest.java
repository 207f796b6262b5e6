package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GenerationLengthTest {

    private static final long DAY = Duration.ofDays(1).toMillis();
    /** Request time of a store's newest entry: any moment, not a generation boundary. */
    private static final long NOW = Instant.parse("2026-12-02T07:41:13.517Z").toEpochMilli();

    @ParameterizedTest
    @ValueSource(strings = {"PT12H", "P2D", "P7D", "PT10M", "PT1H", "PT90M", "PT1M", "PT3.333S"})
    void aStoreWrittenWithAnotherWindowIsReadWithThatWindowsLength(String before) {
        long length = Duration.parse(before).toMillis();

        assertThat(GenerationLength.writtenWith(Math.floorDiv(NOW, length), NOW, DAY)).isEqualTo(length);
    }

    @Test
    void aStoreWrittenWithTheWindowKeepsIt() {
        assertThat(GenerationLength.writtenWith(Math.floorDiv(NOW, DAY), NOW, DAY)).isEqualTo(DAY);
        // at a generation's first millisecond too
        assertThat(GenerationLength.writtenWith(NOW / DAY, NOW / DAY * DAY, DAY)).isEqualTo(DAY);
    }

    @Test
    void whatCannotBeToldIsTheWindow() {
        assertThat(GenerationLength.writtenWith(0, 5, DAY)).isEqualTo(DAY);
        assertThat(GenerationLength.writtenWith(7, 3, DAY)).as("no length puts time 3 in generation 7").isEqualTo(DAY);
    }

    @Test
    void aLookupReadsEveryGenerationTheWindowOverlaps() {
        assertThat(GenerationLength.span(DAY, DAY)).isEqualTo(2);
        assertThat(GenerationLength.span(DAY, 2 * DAY)).isEqualTo(2);
        assertThat(GenerationLength.span(DAY, DAY / 2)).isEqualTo(3);
        assertThat(GenerationLength.span(7 * DAY, DAY)).isEqualTo(8);
    }

    @Test
    void aFilterIsSizedForItsGenerationsShareOfTheWindow() {
        assertThat(GenerationLength.filterCapacity(1_000_000, DAY, DAY)).isEqualTo(1_000_000);
        assertThat(GenerationLength.filterCapacity(1_000_000, 7 * DAY, DAY)).isEqualTo(142_858);
        assertThat(GenerationLength.filterCapacity(1_000_000, DAY, 2 * DAY)).isEqualTo(2_000_000);
        assertThat(GenerationLength.filterCapacity(0, 7 * DAY, DAY)).isZero();
    }

    /** Generation 0, or one no length can give, cannot be told: the window, and no division by zero. */
    @Test
    void aGenerationNoLengthExplainsIsReadWithTheWindow() {
        assertThat(GenerationLength.writtenWith(0, 5_000, 1_000)).isEqualTo(1_000);
        assertThat(GenerationLength.writtenWith(3, 5, 1_000)).isEqualTo(1_000); // no length L has floor(5 / L) == 3
    }
}
