package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterBoundStateTest {

    @TempDir
    Path stateDir;

    @Test
    void stateFromThisClusterIsKeptAndFromAnotherOneDeleted() throws IOException {
        Path sentinel = Files.createDirectories(stateDir.resolve("keymeter-metering/0_1")).resolve("store");
        Files.writeString(sentinel, "rows");
        Path other = Files.writeString(Files.createDirectories(stateDir.resolve("keymeter-billing")).resolve("x"), "");

        // a state from before the marker: taken as this cluster's
        assertThat(ClusterBoundState.bind(stateDir, "keymeter-metering", "cluster-a", true)).isEmpty();
        assertThat(sentinel).exists();
        assertThat(stateDir.resolve("keymeter-metering.cluster-id")).hasContent("cluster-a");
        assertThat(ClusterBoundState.bind(stateDir, "keymeter-metering", "cluster-a", false)).isEmpty();
        assertThat(sentinel).exists();

        assertThat(ClusterBoundState.bind(stateDir, "keymeter-metering", "cluster-b", true)).contains("cluster-a");
        assertThat(stateDir.resolve("keymeter-metering")).doesNotExist();
        assertThat(stateDir.resolve("keymeter-metering.cluster-id")).hasContent("cluster-b");
        assertThat(other).exists(); // another topology's state is its own to check
    }

    /**
     * The first start of the version that writes the marker, on a cluster that holds none of the application's
     * topics (the embedded broker's data wiped in the same upgrade): the state cannot be this cluster's. Kept, it was
     * bound to the new cluster for good, keys listed active that verify refused as unknown.
     */
    @Test
    void withoutAMarkerStateTheClusterHasNoTopicOfIsDeleted() throws IOException {
        Path sentinel = Files.writeString(Files.createDirectories(stateDir.resolve("keymeter-metering/0_0")).resolve("s"), "");

        assertThat(ClusterBoundState.bind(stateDir, "keymeter-metering", "cluster-b", false))
                .contains(ClusterBoundState.UNKNOWN);
        assertThat(sentinel).doesNotExist();
        assertThat(stateDir.resolve("keymeter-metering.cluster-id")).hasContent("cluster-b");
    }

    /** A marker left empty (a crash while it was written, before it was written whole) is none, not another cluster. */
    @Test
    void aBlankMarkerKeepsTheState() throws IOException {
        Path sentinel = Files.writeString(Files.createDirectories(stateDir.resolve("keymeter-metering")).resolve("s"), "");
        Files.writeString(stateDir.resolve("keymeter-metering.cluster-id"), "");

        assertThat(ClusterBoundState.bind(stateDir, "keymeter-metering", "cluster-a", true)).isEmpty();
        assertThat(sentinel).exists();
        assertThat(stateDir.resolve("keymeter-metering.cluster-id")).hasContent("cluster-a");
    }

    @Test
    void aFirstStartWritesTheMarkerWithoutAnyState() {
        assertThat(ClusterBoundState.bind(stateDir.resolve("streams"), "keymeter-billing", "cluster-a", false)).isEmpty();
        assertThat(stateDir.resolve("streams/keymeter-billing.cluster-id")).hasContent("cluster-a");
    }
}
