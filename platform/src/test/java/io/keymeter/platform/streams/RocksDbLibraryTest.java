package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.keymeter.platform.config.OwnerOnly;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.util.Environment;

/**
 * Where RocksDB's native library is copied to, each case in a JVM of its own ({@link RocksDbLibraryProbe}), with
 * {@code java.io.tmpdir} pointed at an empty directory so that a copy left there is seen. Reads
 * {@code /proc/self/maps}: Linux only.
 */
@Timeout(120)
class RocksDbLibraryTest {

    private static final String LIBRARY = Environment.getJniLibraryFileName("rocksdb");

    @TempDir
    Path dir;
    private Path dataDir;
    private Path tmp;

    @BeforeEach
    void dirs() throws IOException {
        assumeThat(Path.of("/proc/self/maps")).as("Linux's /proc").exists();
        dataDir = Files.createDirectories(dir.resolve("data"));
        tmp = Files.createDirectories(dir.resolve("tmp"));
    }

    @Test
    void copiesTheLibraryIntoTheDataDirOwnerOnlyAndNotIntoTheTemporaryDirectory() throws Exception {
        List<String> out = run(Map.of(), "exit");

        Path native_ = dataDir.resolve(RocksDbLibrary.DIR);
        Path copy = mapped(out);
        assertThat(out).contains("usage=0");
        assertThat(copy.getParent().getParent()).isEqualTo(native_);
        assertThat(Files.getPosixFilePermissions(native_)).isEqualTo(OwnerOnly.DIRECTORY);
        assertThat(files(tmp)).as("copies in java.io.tmpdir").noneMatch(name -> name.contains("rocksdb"));
        assertThat(files(native_)).as("left after a clean exit").isEmpty();
    }

    /** RocksJava's own copy stayed in the temporary directory after each SIGKILL, 15 MB a time. */
    @Test
    void aKilledProcessLeavesOneCopyWhichTheNextStartDeletes() throws Exception {
        Path last = null;
        for (int i = 0; i < 3; i++) {
            Process probe = start(Map.of(), "hang");
            try {
                last = mapped(readUntilReady(probe));
            } finally {
                probe.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            assertThat(last.getParent().getParent()).isEqualTo(dataDir.resolve(RocksDbLibrary.DIR));
        }
        assertThat(files(dataDir.resolve(RocksDbLibrary.DIR))).containsExactly(last.getParent().getFileName()
                .toString());
        assertThat(files(last.getParent())).containsExactly(LIBRARY);
        assertThat(Files.getPosixFilePermissions(last.getParent())).isEqualTo(OwnerOnly.DIRECTORY);
        assertThat(files(tmp)).noneMatch(name -> name.contains("rocksdb"));
    }

    /**
     * A stopping process deletes its copy at its very end, after it has let the data dir go: with one shared file
     * name, that deleted the copy of the process starting in its place.
     */
    @Test
    void aProcessExitingAfterTheNextOneStartedLeavesTheNewCopyInPlace() throws Exception {
        Process old = start(Map.of(), "wait");
        Process next = null;
        try {
            Path oldCopy = mapped(readUntilReady(old));
            next = start(Map.of(), "wait");
            Path nextCopy = mapped(readUntilReady(next));

            old.getOutputStream().close(); // the old one exits now, its exit hooks run
            assertThat(old.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(old.exitValue()).isZero();

            assertThat(nextCopy).as("the new process's copy").exists().isNotEqualTo(oldCopy);
            assertThat(files(dataDir.resolve(RocksDbLibrary.DIR))).containsExactly(nextCopy.getParent().getFileName()
                    .toString());
            next.getOutputStream().close();
            assertThat(next.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(next.exitValue()).isZero();
            assertThat(files(dataDir.resolve(RocksDbLibrary.DIR))).as("left after a clean exit").isEmpty();
        } finally {
            old.destroyForcibly();
            if (next != null) {
                next.destroyForcibly();
            }
        }
    }

    @Test
    void rocksDbsOwnVariableStillChoosesTheDirectory() throws Exception {
        Path own = Files.createDirectories(dir.resolve("own"));

        List<String> out = run(Map.of(RocksDbLibrary.SHAREDLIB_DIR, own.toString()), "exit");

        assertThat(out).contains("usage=0", "mapped=" + own.resolve(LIBRARY));
        assertThat(dataDir.resolve(RocksDbLibrary.DIR)).doesNotExist();
    }

    @Test
    void aDataDirThatCannotHoldItLeavesTheLibraryToRocksDbsOwnWay() throws Exception {
        Files.writeString(dataDir.resolve(RocksDbLibrary.DIR), "a file where the directory would go");

        List<String> out = run(Map.of(), "exit");

        assertThat(out).contains("usage=0")
                .anyMatch(line -> line.startsWith("mapped=" + tmp.resolve("librocksdbjni")))
                .anyMatch(line -> line.contains("WARN") && line.contains("could not be loaded from "
                        + dataDir.resolve(RocksDbLibrary.DIR)));
    }

    private List<String> run(Map<String, String> env, String mode) throws Exception {
        Process probe = start(env, mode);
        try {
            List<String> out = CompletableFuture.supplyAsync(() -> lines(probe)).get(60, TimeUnit.SECONDS);
            assertThat(probe.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(probe.exitValue()).as("probe's exit, output: %s", out).isZero();
            return out;
        } finally {
            probe.destroyForcibly();
        }
    }

    private Process start(Map<String, String> env, String mode) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                RocksDbLibraryProbe.class.getName(), dataDir.toString(), mode).redirectErrorStream(true);
        builder.environment().remove(RocksDbLibrary.SHAREDLIB_DIR);
        builder.environment().putAll(env);
        return builder.start();
    }

    /** The library file the probe's process mapped, as it printed it. */
    private static Path mapped(List<String> out) {
        return out.stream().filter(line -> line.startsWith("mapped=")).findFirst()
                .map(line -> Path.of(line.substring("mapped=".length())))
                .orElseThrow(() -> new AssertionError("no library mapped: " + out));
    }

    private static List<String> readUntilReady(Process probe) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            List<String> read = new ArrayList<>();
            try {
                BufferedReader reader = new BufferedReader(new InputStreamReader(probe.getInputStream(),
                        StandardCharsets.UTF_8));
                for (String line = reader.readLine(); line != null && !line.equals("ready"); line = reader.readLine()) {
                    read.add(line);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return read;
        }).get(60, TimeUnit.SECONDS);
    }

    private static List<String> lines(Process probe) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(probe.getInputStream(),
                StandardCharsets.UTF_8))) {
            return reader.lines().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }
}
