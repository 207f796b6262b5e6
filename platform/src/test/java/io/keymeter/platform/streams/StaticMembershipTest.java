package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StaticMembershipTest {

    @Test
    void theSameHostAndStateDirGiveTheSameIdAndAnotherDirAnotherOne() {
        String id = StaticMembership.instanceId("node-a", Path.of("/var/keymeter/data/streams"));

        assertThat(StaticMembership.instanceId("node-a", Path.of("/var/keymeter/data/../data/streams"))).isEqualTo(id);
        assertThat(StaticMembership.instanceId("node-a", Path.of("/var/keymeter/data2/streams"))).isNotEqualTo(id);
        assertThat(StaticMembership.instanceId("node-b", Path.of("/var/keymeter/data/streams"))).isNotEqualTo(id);
        assertThat(id).matches("node-a-[0-9a-f]{12}");
    }

    @Test
    void aHostNameIsMadeLegalForKafkaAndShortEnoughForTheThreadSuffix() {
        String id = StaticMembership.instanceId("höst name:" + "x".repeat(400), Path.of("/data"));

        // Kafka's rule for group.instance.id: [a-zA-Z0-9._-], at most 249 characters, Streams appends -<thread>
        assertThat(id).matches("[a-zA-Z0-9._-]+").startsWith("h_st_name_x");
        assertThat(id.length() + "-64".length()).isLessThanOrEqualTo(249);
    }

    @Test
    void everyTopologyGetsAnIdFromItsFinalStateDirUnlessTheOperatorSetsOneOrTurnsItOff() {
        KeymeterProperties defaults = properties(null);
        Properties config = StreamsFactory.config(Map.of(), defaults, "metering", Map.of());
        String id = (String) config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(id).isEqualTo(StaticMembership.instanceId(defaults.stateDir()));

        Properties movedState = StreamsFactory.config(Map.of(), defaults, "metering",
                Map.of(StreamsConfig.STATE_DIR_CONFIG, "/elsewhere"));
        assertThat(movedState.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG))
                .isEqualTo(StaticMembership.instanceId(Path.of("/elsewhere"))).isNotEqualTo(id);

        Properties chosen = StreamsFactory.config(Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "pod-3"), defaults,
                "metering", Map.of());
        assertThat(chosen.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)).isEqualTo("pod-3");

        Properties off = StreamsFactory.config(Map.of(), properties(false), "metering", Map.of());
        assertThat(off).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    private static KeymeterProperties properties(Boolean staticMembership) {
        return new KeymeterProperties(null, null, null, null, null, null, null, null, null, null,
                new KeymeterProperties.Streams(null, null, null, null, staticMembership));
    }
}
