package io.keymeter.platform.config;

import io.keymeter.kafka.DirectoryLock;
import io.keymeter.kafka.StartupRefusedException;
import java.nio.file.Path;
import java.util.List;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * One Keymeter process per data directory when it runs a topology, whatever its broker: taken before the tokens are
 * read and before any topology starts ({@code @DependsOn} on those). Only the embedded broker locked its part before,
 * so two processes started on one data directory against a cluster shared the Kafka Streams state directories and
 * the static group member id kept there, and fenced each other out of their groups in turn. Ingest and the console
 * keep nothing there but the generated tokens: their replicas may share one (docker-compose.yml's ingest volume).
 */
@Component(DataDirLock.BEAN)
public class DataDirLock implements DisposableBean {

    public static final String BEAN = "dataDirLock";
    static final String FILE = "keymeter.lock";

    /** Roles that keep state in the data dir (Kafka Streams); {@code all} among them. */
    private static final List<String> STATEFUL = List.of("all", "credential-store", "metering", "billing-report");

    private final DirectoryLock lock;

    public DataDirLock(KeymeterProperties properties) {
        Path dir = properties.dataDir().toAbsolutePath();
        if (properties.roles().stream().noneMatch(STATEFUL::contains)) {
            lock = null;
            return;
        }
        lock = DirectoryLock.tryTake(dir.resolve(FILE)).orElseThrow(() -> new StartupRefusedException(
                "The data directory " + dir + " is in use by another Keymeter.",
                "Stop it, or give this one its own keymeter.data-dir."));
    }

    @Override
    public void destroy() {
        if (lock != null) {
            lock.close();
        }
    }
}
