package io.keymeter.platform.config;

import io.keymeter.kafka.StartupRefusedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * One Keymeter process per data directory, whatever its broker: taken before the tokens are read and before any
 * topology starts ({@code @DependsOn} on those). Only the embedded broker locked its part before, so two processes
 * started on one data directory against a cluster shared the Kafka Streams state directories and the static group
 * member id kept there, and fenced each other out of their groups in turn.
 */
@Component(DataDirLock.BEAN)
public class DataDirLock implements DisposableBean {

    public static final String BEAN = "dataDirLock";
    static final String FILE = "keymeter.lock";

    private final FileChannel channel;
    private final FileLock lock;

    public DataDirLock(KeymeterProperties properties) {
        Path dir = properties.dataDir().toAbsolutePath();
        Path file = dir.resolve(FILE);
        FileLock taken;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                taken = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                taken = null; // held by another Keymeter in this JVM
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
        if (taken == null) {
            close();
            throw new StartupRefusedException("The data directory " + dir + " is in use by another Keymeter.",
                    "Stop it, or give this one its own keymeter.data-dir.");
        }
        lock = taken;
    }

    @Override
    public void destroy() {
        try {
            lock.release();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            close();
        }
    }

    private void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
