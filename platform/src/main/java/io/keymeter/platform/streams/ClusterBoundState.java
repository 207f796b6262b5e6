package io.keymeter.platform.streams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private ClusterBoundState() {
    }

    /**
     * Binds {@code <stateDir>/<applicationId>} to {@code clusterId}, deleting it first when it was built from another
     * cluster. Call only while the topology is not running (the data directory's lock keeps other processes out).
     *
     * @return the cluster the deleted state came from, when it was deleted
     */
    static Optional<String> bind(Path stateDir, String applicationId, String clusterId) {
        if (clusterId == null || clusterId.isBlank()) { // a cluster that names none: nothing to compare
            return Optional.empty();
        }
        Path state = stateDir.resolve(applicationId);
        Path marker = stateDir.resolve(applicationId + ".cluster-id");
        try {
            Optional<String> before = Files.exists(marker)
                    ? Optional.of(Files.readString(marker, StandardCharsets.UTF_8).strip()) : Optional.empty();
            Optional<String> other = before.filter(id -> !id.equals(clusterId));
            if (other.isPresent() && Files.exists(state)) {
                log.warn("The local state of {} was built from Kafka cluster {}, and Kafka is now cluster {} (its data "
                        + "wiped, or another cluster): the state is deleted and restored from {}",
                        applicationId, other.get(), clusterId, clusterId);
                deleteRecursively(state);
            }
            if (before.isEmpty() || other.isPresent()) { // none before: this version's first start, on its cluster
                Files.createDirectories(stateDir);
                Files.writeString(marker, clusterId, StandardCharsets.UTF_8);
            }
            return other;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check which Kafka cluster the state in " + state + " is from", e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
