package io.keymeter.platform.config;

import io.keymeter.kafka.DirectoryLock;
import io.keymeter.kafka.StartupRefusedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.annotation.DependsOn;
import org.springframework.stereotype.Component;

/**
 * One Keymeter process per data directory when it runs a topology, whatever its broker: taken before the tokens are
 * read and before any topology starts ({@code @DependsOn} on those). Only the embedded broker locked its part before,
 * so two processes started on one data directory against a cluster shared the Kafka Streams state directories and
 * the static group member id kept there, and fenced each other out of their groups in turn. Ingest and the console
 * keep nothing there but the generated tokens: their replicas may share one (docker-compose.yml's ingest volume).
 */
@Component(DataDirLock.BEAN)
@DependsOn(DurationSettings.BEAN) // a setting refused stops start-up before anything is taken or started
public class DataDirLock implements DisposableBean {

    public static final String BEAN = "dataDirLock";
    static final String FILE = "keymeter.lock";

    /** Roles that keep state in the data dir (Kafka Streams); {@code all} among them. */
    private static final List<String> STATEFUL = List.of("all", "credential-store", "metering", "billing-report");

    private final DirectoryLock lock;

    public DataDirLock(KeymeterProperties properties) {
        Path dir = properties.dataDir().toAbsolutePath();
        if (properties.roles().stream().noneMatch(STATEFUL::contains)) {
            create(dir); // health's diskSpace watches it, and generated tokens are kept there
            lock = null;
            return;
        }
        lock = take(dir).orElseThrow(() -> new StartupRefusedException(
                "The data directory " + dir + " is in use by another Keymeter.",
                "Stop it, or give this one its own keymeter.data-dir."));
    }

    /** A data dir that is a file, or one this process may not write, named as the setting it is (was a trace). */
    private static Optional<DirectoryLock> take(Path dir) {
        try {
            return DirectoryLock.tryTake(dir.resolve(FILE));
        } catch (UncheckedIOException e) {
            throw refused(dir, e);
        }
    }

    private static void create(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw refused(dir, e);
        }
    }

    private static StartupRefusedException refused(Path dir, Exception e) {
        return new StartupRefusedException("keymeter.data-dir " + dir + " cannot be used: "
                + (Files.exists(dir) && !Files.isDirectory(dir) ? "it is not a directory"
                : "it cannot be created or written (" + (e.getCause() == null ? e : e.getCause()) + ")") + ".",
                "Give keymeter.data-dir a directory this process can create and write.", e);
    }

    @Override
    public void destroy() {
        if (lock != null) {
            lock.close();
        }
    }
}
