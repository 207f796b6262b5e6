package io.keymeter.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.apache.kafka.common.utils.Utils;

/**
 * Temporary directories for brokers and data dirs that live as long as the JVM, so nothing can delete them at the
 * end (a shutdown hook would delete files under a broker that is still running). Each one records the process that
 * made it; making a new one first deletes those with the same prefix whose process has ended. Without this every
 * run left its broker's log behind (one ingest benchmark: 1.1 GB) until the disk filled up.
 */
public final class TempDirs {

    static final String OWNER_FILE = ".keymeter-owner-pid";

    private TempDirs() {
    }

    /** A new directory under {@code java.io.tmpdir}, after sweeping the stale ones of the same prefix. */
    public static Path create(String prefix) {
        Path root = Path.of(System.getProperty("java.io.tmpdir"));
        try {
            sweep(root, prefix);
            Path dir = Files.createTempDirectory(root, prefix);
            Files.writeString(dir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deletes {@code root/prefix*} directories whose owner process has ended, and the {@code <dir>.lock} file the
     * embedded broker keeps beside one; the others are left alone.
     */
    static void sweep(Path root, String prefix) throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, prefix + "*")) {
            for (Path dir : dirs) {
                if (Files.isDirectory(dir) && ownerEnded(dir)) {
                    deleteTree(dir);
                    // the embedded broker's lock file beside its log directory
                    Files.deleteIfExists(dir.resolveSibling(dir.getFileName() + ".lock"));
                }
            }
        }
    }

    /** True only when the directory names its owner and that process is gone; unmarked ones are not ours. */
    private static boolean ownerEnded(Path dir) {
        OptionalLong owner = owner(dir);
        return owner.isPresent() && ProcessHandle.of(owner.getAsLong()).map(p -> !p.isAlive()).orElse(true);
    }

    private static OptionalLong owner(Path dir) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(dir.resolve(OWNER_FILE), StandardCharsets.US_ASCII).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static void deleteTree(Path dir) {
        try {
            Utils.delete(dir.toFile()); // Kafka's recursive delete: a file already gone is not an error
        } catch (IOException e) {
            // a file that is not ours to delete: leave the rest
        }
    }
}
