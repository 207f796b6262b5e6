package io.keymeter.platform.config;

import io.keymeter.kafka.DirectoryLock;
import io.keymeter.kafka.StartupRefusedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
@DependsOn(StartupChecks.BEAN) // a setting refused stops start-up before anything is taken or started
public class DataDirLock implements DisposableBean {

    public static final String BEAN = "dataDirLock";
    static final String FILE = "keymeter.lock";

    /** Roles that keep state in the data dir (Kafka Streams); {@code all} among them. */
    private static final List<String> STATEFUL = List.of("all", "credential-store", "metering", "billing-report");

    private static final Logger log = LoggerFactory.getLogger(DataDirLock.class);

    private final DirectoryLock lock;

    public DataDirLock(KeymeterProperties properties) {
        Path dir = properties.dataDir().toAbsolutePath();
        create(dir); // health's diskSpace watches it, and generated tokens are kept there
        restrictToOwner(dir);
        if (properties.roles().stream().noneMatch(STATEFUL::contains)) {
            lock = null;
            return;
        }
        lock = take(dir).orElseThrow(() -> new StartupRefusedException(
                "The data directory " + dir + " is in use by another Keymeter.",
                "Stop it, or give this one its own keymeter.data-dir."));
    }

    /**
     * Only its owner may enter the data dir: the embedded broker's logs (every tenant's credential names, the keys'
     * secret hashes, every request) and the state stores were readable by every user of the machine, beside token
     * files kept owner-only. A data dir others may enter is made owner-only, with a warning, as a token file is.
     */
    static void restrictToOwner(Path dir) {
        Set<PosixFilePermission> now;
        try {
            now = Files.getPosixFilePermissions(dir);
        } catch (UnsupportedOperationException | IOException e) {
            return; // not a POSIX file system; or unreadable, which taking the lock says
        }
        if (OwnerOnly.DIRECTORY.containsAll(now)) {
            return;
        }
        try {
            Files.setPosixFilePermissions(dir, OwnerOnly.DIRECTORY);
            log.warn("Data directory {} was {}; made owner-only (rwx------): it holds every tenant's data", dir,
                    PosixFilePermissions.toString(now));
        } catch (IOException e) { // another user's directory: this one may still write in it
            log.warn("Data directory {} is {} and could not be made owner-only ({}): other users of this machine may"
                    + " read every tenant's data in it", dir, PosixFilePermissions.toString(now), e.toString());
        }
    }

    /** A data dir that is a file, or one this process may not write, named as the setting it is (was a trace). */
    private static Optional<DirectoryLock> take(Path dir) {
        try {
            return DirectoryLock.tryTake(dir.resolve(FILE));
        } catch (UncheckedIOException e) {
            throw refused(dir, e);
        }
    }

    /** Created owner-only from the start (a warning on every first start otherwise, and a moment open to others). */
    private static void create(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                OwnerOnly.createDirectories(dir);
            }
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
