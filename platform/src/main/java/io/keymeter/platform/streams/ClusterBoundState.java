package io.keymeter.platform.streams;

import io.keymeter.kafka.StartupRefusedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.FileSystemUtils;

/**
 * A topology's local state is a copy of what its Kafka cluster holds, and only of that cluster: kept beside the state
 * directory, the cluster's id says which. Started on a cluster whose id differs (the embedded broker's data wiped and
 * the state kept, or another cluster named), the copy is deleted and restored from the cluster it now runs on. Kept,
 * it answered from the old cluster for good: the credential store listed keys as active that the new cluster's
 * {@code keymeter.api-keys} did not hold, so verify and metering refused every one of them as {@code unknown-key},
 * and health said UP.
 */
final class ClusterBoundState {

    private static final Logger log = LoggerFactory.getLogger(ClusterBoundState.class);
    /** Where the state came from when no marker says, in the warning and the answer. */
    static final String UNKNOWN = "unknown";

    private ClusterBoundState() {
    }

    /**
     * Binds {@code <stateDir>/<applicationId>} to {@code clusterId}, deleting it first when it was built from another
     * cluster. Call only while the topology is not running, and only on a state directory inside the locked data
     * directory: that lock keeps other processes out (one elsewhere may be another Keymeter's, on another cluster).
     *
     * @param clusterHasItsTopics whether the cluster holds any of the application's internal topics: without a marker
     *                            (the first start of a version that writes one), state that the cluster has no
     *                            changelog of cannot be the cluster's, and is deleted too
     * @return the cluster the deleted state came from ({@code "unknown"} without a marker), when it was deleted
     */
    static Optional<String> bind(Path stateDir, String applicationId, String clusterId, boolean clusterHasItsTopics) {
        if (clusterId == null || clusterId.isBlank()) { // a cluster that names none: nothing to compare
            return Optional.empty();
        }
        Path state = stateDir.resolve(applicationId);
        Path marker = stateDir.resolve(applicationId + ".cluster-id");
        try {
            // a blank marker (none of this version writes one) is read as none, not as another cluster
            Optional<String> before = Files.exists(marker)
                    ? Optional.of(Files.readString(marker, StandardCharsets.UTF_8).strip()).filter(id -> !id.isEmpty())
                    : Optional.empty();
            // no marker (an upgrade, or a blank one): the state is this cluster's only if the cluster knows the app
            Optional<String> other = before.isPresent() ? before.filter(id -> !id.equals(clusterId))
                    : clusterHasItsTopics ? Optional.empty() : Optional.of(UNKNOWN);
            boolean deleted = other.isPresent() && Files.exists(state) && !isEmpty(state);
            if (deleted) {
                log.warn("The local state of {} was built from {}, and Kafka is now cluster {} (its data wiped, or "
                        + "another cluster): the state is deleted and restored from {}", applicationId,
                        before.isPresent() ? "Kafka cluster " + before.get()
                                : "a Kafka cluster that is not this one (it holds none of its topics)",
                        clusterId, clusterId);
                FileSystemUtils.deleteRecursively(state);
            }
            if (before.isEmpty() || other.isPresent()) { // none before: this version's first start, on its cluster
                Files.createDirectories(stateDir);
                // written whole or not at all: a marker half written at a crash must not read as another cluster
                Path written = Files.writeString(stateDir.resolve(marker.getFileName() + ".tmp"), clusterId,
                        StandardCharsets.UTF_8);
                Files.move(written, marker, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return deleted ? other : Optional.empty();
        } catch (IOException e) {
            throw new StartupRefusedException("Cannot tell which Kafka cluster the state in " + state + " is from: "
                    + e + ".", "Let this process read and write " + stateDir + ".", e);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }
}
