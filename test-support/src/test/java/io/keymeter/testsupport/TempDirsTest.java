package io.keymeter.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TempDirsTest {

    @TempDir
    Path root;

    @Test
    void aDirectoryWhoseProcessEndedIsDeletedAndTheOthersAreKept() throws Exception {
        Path dead = dir("bench-dead", Long.toString(endedProcessId()));
        Files.writeString(Files.createDirectories(dead.resolve("kafka/keymeter.requests-0")).resolve("00.log"), "x");
        Path deadLock = Files.createFile(root.resolve("bench-dead.lock"));
        Path alive = dir("bench-alive", Long.toString(ProcessHandle.current().pid()));
        Path unmarked = Files.createDirectories(root.resolve("bench-unmarked"));
        Path otherPrefix = dir("other-dead", Long.toString(endedProcessId()));

        TempDirs.sweep(root, "bench-");

        assertThat(dead).doesNotExist();
        assertThat(deadLock).doesNotExist();
        assertThat(alive).isDirectory();
        assertThat(unmarked).isDirectory();
        assertThat(otherPrefix).isDirectory();
    }

    @Test
    void createRecordsThisProcessAsTheOwner() throws Exception {
        Path dir = TempDirs.create("keymeter-tempdirs-test");
        try {
            assertThat(Files.readString(dir.resolve(TempDirs.OWNER_FILE)))
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
        } finally {
            Files.delete(dir.resolve(TempDirs.OWNER_FILE));
            Files.delete(dir);
        }
    }

    private Path dir(String name, String owner) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.writeString(dir.resolve(TempDirs.OWNER_FILE), owner);
        return dir;
    }

    /** The pid of a process that has run and ended. */
    private static long endedProcessId() throws Exception {
        Process process = new ProcessBuilder("true").start();
        process.waitFor();
        return process.pid();
    }
}
