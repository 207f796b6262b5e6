package io.keymeter.platform.config;

import io.keymeter.kafka.DirectoryLock;
import io.keymeter.kafka.StartupRefusedException;
import java.nio.file.Path;
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

    private final DirectoryLock lock;

    public DataDirLock(KeymeterProperties properties) {
        Path dir = properties.dataDir().toAbsolutePath();
        lock = DirectoryLock.tryTake(dir.resolve(FILE)).orElseThrow(() -> new StartupRefusedException(
                "The data directory " + dir + " is in use by another Keymeter.",
                "Stop it, or give this one its own keymeter.data-dir."));
    }

    @Override
    public void destroy() {
        lock.close();
    }
}
