package io.keymeter.platform.streams;

import io.keymeter.platform.config.OwnerOnly;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.rocksdb.NativeLibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.FileSystemUtils;

/**
 * Has RocksJava copy its native library under {@code <data-dir>/native} rather than to a new file in
 * {@code java.io.tmpdir}. RocksJava copies the library (about 15 MB) out of its jar at every start under a random
 * name and deletes it only at a clean exit: every {@code kill -9} (a crashed pod, an OOM kill, a stop that timed
 * out) left one behind for good, and a temporary directory mounted {@code noexec}, a common hardening, kept RocksDB
 * from loading at all. Under the data dir the copy sits where only the owner may enter (a library at a known name
 * in a shared {@code /tmp} could be swapped by another user), in a directory of this JVM's own: RocksJava always
 * gives it the same file name, and a stopping process deletes its copy after it has let the data dir go, so with one
 * shared name a process starting then could lose its copy. Each start deletes what earlier processes left there
 * (a {@code kill -9} skips their deletion); a clean exit deletes its own.
 * <p>
 * {@code ROCKSDB_SHAREDLIB_DIR}, RocksJava's own setting, still wins. When the data dir cannot hold the library,
 * RocksJava loads it its own way, after a warning.
 */
public final class RocksDbLibrary {

    /** RocksJava's environment variable for the directory it copies its library to. */
    static final String SHAREDLIB_DIR = "ROCKSDB_SHAREDLIB_DIR";
    static final String DIR = "native";

    private static final Logger log = LoggerFactory.getLogger(RocksDbLibrary.class);
    private static boolean tried;

    private RocksDbLibrary() {
    }

    /** Once a JVM, before the first RocksDB store opens; a library already loaded stays as it is. */
    public static synchronized void loadUnder(Path dataDir) {
        if (!tried) {
            tried = true;
            load(dataDir, System.getenv(SHAREDLIB_DIR));
        }
    }

    /**
     * The directory RocksJava was told to copy its library to, or empty when it was left to RocksJava (the variable
     * set, or a failure). RocksJava copies nothing when it finds the library on {@code java.library.path} or has
     * loaded it already.
     */
    static Optional<Path> load(Path dataDir, String sharedLibDir) {
        if (sharedLibDir != null && !sharedLibDir.isBlank()) {
            return Optional.empty();
        }
        Path root = dataDir.toAbsolutePath().resolve(DIR);
        try {
            if (!Files.isDirectory(root)) {
                OwnerOnly.createDirectories(root);
            }
            deleteEarlierCopies(root);
            Path dir = Files.createTempDirectory(root, "jvm-"); // owner-only where permissions exist (the JDK's)
            // registered before RocksJava registers its copy inside: deleted after it, at exit (reverse order)
            dir.toFile().deleteOnExit();
            NativeLibraryLoader.getInstance().loadLibrary(dir.toString());
            return Optional.of(dir);
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            log.warn("RocksDB's native library could not be loaded from {} ({}): RocksDB copies it to {} instead,"
                    + " where it stays after a kill -9; set {} to a directory of your own to choose", root, e,
                    System.getProperty("java.io.tmpdir"), SHAREDLIB_DIR);
            return Optional.empty();
        }
    }

    /**
     * Whatever is in {@code native} comes from processes gone or going (the data dir is locked to one process at a
     * time): a library mapped by a process still exiting stays mapped when its file is deleted, and what that process
     * deletes meanwhile is gone either way. A copy that cannot be deleted is only disk: this start goes on.
     */
    private static void deleteEarlierCopies(Path root) {
        List<Path> entries;
        try (Stream<Path> listed = Files.list(root)) {
            entries = listed.toList();
        } catch (IOException e) {
            log.warn("Earlier copies of RocksDB's native library in {} could not be listed ({})", root, e);
            return;
        }
        for (Path entry : entries) {
            try {
                FileSystemUtils.deleteRecursively(entry);
            } catch (NoSuchFileException gone) {
                // deleted by the process it came from, exiting as this one starts
            } catch (IOException e) {
                log.warn("An earlier copy of RocksDB's native library could not be deleted: {} ({})", entry, e);
            }
        }
    }
}
