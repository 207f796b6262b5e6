package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.junit.jupiter.api.Test;

class InternalTopicLayoutTest {

    private static final String APP = "keymeter-layout";

    /** Shaped like metering: a stream joined to a table, re-keyed through a repartition topic and counted. */
    private static TopologyDescription joinRepartitionCount() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> states = builder.table("states-in", Materialized.as("states"));
        builder.<String, String>stream("requests-in")
                .join(states, (request, state) -> request)
                .groupBy((key, value) -> value)
                .count(Materialized.as("totals"));
        return builder.build().describe();
    }

    @Test
    void expectsEveryInternalTopicToHaveItsSubTopologysTaskCount() {
        assertThat(InternalTopicLayout.expectedInternalCounts(joinRepartitionCount(), APP,
                Map.of("requests-in", 6, "states-in", 6))).isEqualTo(Map.of(
                APP + "-states-changelog", 6,
                APP + "-totals-repartition", 6,
                APP + "-totals-changelog", 6));
    }

    @Test
    void acceptsALayoutThatMatchesItsSourcesAndAFirstStartWithoutInternalTopics() {
        assertThat(InternalTopicLayout.mismatch(joinRepartitionCount(), APP, Map.of("requests-in", 6, "states-in", 6,
                APP + "-states-changelog", 6, APP + "-totals-repartition", 6, APP + "-totals-changelog", 6))).isEmpty();
        assertThat(InternalTopicLayout.mismatch(joinRepartitionCount(), APP,
                Map.of("requests-in", 12, "states-in", 12))).isEmpty();
    }

    @Test
    void namesEveryInternalTopicLaidOutForTheOldCount() {
        assertThat(InternalTopicLayout.mismatch(joinRepartitionCount(), APP, Map.of("requests-in", 12, "states-in", 12,
                APP + "-states-changelog", 6, APP + "-totals-repartition", 6, APP + "-totals-changelog", 6)))
                .contains("its internal topics are laid out for another partition count than the topics it reads "
                        + "(requests-in 12, states-in 12): "
                        + APP + "-states-changelog has 6 partitions, 12 expected; "
                        + APP + "-totals-changelog has 6 partitions, 12 expected; "
                        + APP + "-totals-repartition has 6 partitions, 12 expected.");
    }

    @Test
    void oneSourceGrownIsEnoughForTheTasksToChange() {
        assertThat(InternalTopicLayout.mismatch(joinRepartitionCount(), APP, Map.of("requests-in", 12, "states-in", 6,
                APP + "-states-changelog", 6, APP + "-totals-repartition", 6, APP + "-totals-changelog", 6)))
                .hasValueSatisfying(m -> assertThat(m).contains("totals-repartition has 6 partitions, 12 expected"));
    }
}
