package io.keymeter.platform.streams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The {@code group.instance.id} of an instance: a random id kept in the state directory, made on first use.
 * <p>
 * Why static membership: a member that died without leaving stays in its group until its session times out (45 s),
 * and a restarted instance waits that long in REBALANCING, enforcing and metering nothing. A member that comes back
 * under the same instance id takes its old place at once. Why an id kept with the state: it is the same after a
 * restart, and no two instances running together can share a state directory, whatever their host names and paths
 * (containers on the host network share both). A new state directory is a new member, as without static membership.
 */
public final class StaticMembership {

    static final String FILE = "keymeter-instance-id";
    private static final Pattern ID = Pattern.compile("keymeter-[0-9a-f-]{36}");

    private StaticMembership() {
    }

    /** Reads the id kept in {@code stateDir}, or makes and keeps a new one (also when the file is unreadable). */
    public static synchronized String instanceId(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        try {
            if (Files.isRegularFile(file)) {
                String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (ID.matcher(kept).matches()) {
                    return kept;
                }
            }
            String id = "keymeter-" + UUID.randomUUID();
            Files.createDirectories(stateDir);
            Path written = Files.writeString(Files.createTempFile(stateDir, FILE, ".tmp"), id, StandardCharsets.UTF_8);
            // whole or nothing: a crash while writing must not leave half an id behind
            Files.move(written, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the instance id in " + file, e);
        }
    }
}
