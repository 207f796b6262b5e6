package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticMembershipTest {

    @TempDir
    Path dir;

    @Test
    void theIdIsKeptInTheStateDirSoARestartGetsItAgainAndAnotherDirGetsAnother() {
        String id = StaticMembership.instanceId(dir.resolve("a"));

        assertThat(StaticMembership.instanceId(dir.resolve("a"))).isEqualTo(id);
        assertThat(StaticMembership.instanceId(dir.resolve("b"))).isNotEqualTo(id);
        // Kafka's rule for group.instance.id: [a-zA-Z0-9._-], at most 249 characters, Streams appends -<thread>
        assertThat(id).matches("[a-zA-Z0-9._-]{1,240}");
    }

    @Test
    void anUnreadableIdFileIsReplacedByANewId() throws Exception {
        Path stateDir = Files.createDirectories(dir.resolve("c"));
        Files.writeString(stateDir.resolve(StaticMembership.FILE), "keymeter-12"); // cut short

        String id = StaticMembership.instanceId(stateDir);

        assertThat(id).startsWith("keymeter-").hasSize("keymeter-".length() + 36);
        assertThat(Files.readString(stateDir.resolve(StaticMembership.FILE))).isEqualTo(id);
        assertThat(StaticMembership.instanceId(stateDir)).isEqualTo(id);
    }

    @Test
    void everyTopologyGetsTheIdOfItsFinalStateDirUnlessTheOperatorSetsOneOrTurnsItOff() {
        KeymeterProperties defaults = properties(null);
        Properties config = StreamsFactory.config(Map.of(), defaults, "metering", Map.of());
        String id = (String) config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(id).isEqualTo(StaticMembership.instanceId(defaults.stateDir()));

        Path elsewhere = dir.resolve("elsewhere");
        Properties movedState = StreamsFactory.config(Map.of(), defaults, "metering",
                Map.of(StreamsConfig.STATE_DIR_CONFIG, elsewhere.toString()));
        assertThat(movedState.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG))
                .isEqualTo(StaticMembership.instanceId(elsewhere)).isNotEqualTo(id);

        Properties chosen = StreamsFactory.config(Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "pod-3"), defaults,
                "metering", Map.of());
        assertThat(chosen.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)).isEqualTo("pod-3");

        Properties off = StreamsFactory.config(Map.of(), properties(false), "metering", Map.of());
        assertThat(off).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    private KeymeterProperties properties(Boolean staticMembership) {
        return new KeymeterProperties(null, dir.resolve("data"), null, null, null, null, null, null, null, null,
                new KeymeterProperties.Streams(null, null, null, null, staticMembership));
    }
}
