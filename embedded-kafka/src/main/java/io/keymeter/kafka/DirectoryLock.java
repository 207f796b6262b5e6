package io.keymeter.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive lock on a file, held by at most one process, and one holder in this JVM. Files held in this JVM are
 * refused before a channel is opened: on Linux, closing any channel on a locked file releases the process's lock on
 * it, so a refused second holder closing its channel freed the first one's lock for other processes.
 */
public final class DirectoryLock implements AutoCloseable {

    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** The lock on {@code file} (its directory created), or empty while another holder has it. */
    public static Optional<DirectoryLock> tryTake(Path file) {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            return Optional.empty();
        }
        Optional<DirectoryLock> taken = Optional.empty();
        try {
            taken = take(key);
            return taken;
        } finally {
            if (taken.isEmpty()) { // not taken, or failed: this JVM does not hold it
                HELD.remove(key);
            }
        }
    }

    private static Optional<DirectoryLock> take(Path file) {
        FileChannel channel;
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held in this JVM
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock " + file, e);
        }
        if (lock == null) {
            closeQuietly(channel);
            return Optional.empty();
        }
        return Optional.of(new DirectoryLock(file, channel, lock));
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            closeQuietly(channel);
            HELD.remove(file);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing held: the lock was not taken or is released
        }
    }
}
