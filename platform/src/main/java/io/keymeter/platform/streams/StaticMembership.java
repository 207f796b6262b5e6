package io.keymeter.platform.streams;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The {@code group.instance.id} of an instance: the host name and a digest of the absolute state directory.
 * <p>
 * Why static membership: a member that died without leaving stays in its group until its session times out (45 s),
 * and a restarted instance waits that long in REBALANCING, enforcing and metering nothing. A member that comes back
 * under the same instance id takes its old place at once. Why this id: it is the same after a restart (same host,
 * same data dir) and different for any two instances running together, which cannot share a state directory.
 */
public final class StaticMembership {

    /** Kafka accepts up to 249 characters of {@code [a-zA-Z0-9._-]}; Streams appends {@code -<thread>}. */
    static final int MAX_HOST_CHARS = 200;

    private StaticMembership() {
    }

    public static String instanceId(Path stateDir) {
        return instanceId(hostName(), stateDir);
    }

    static String instanceId(String host, Path stateDir) {
        String safeHost = host.replaceAll("[^a-zA-Z0-9._-]", "_");
        if (safeHost.length() > MAX_HOST_CHARS) {
            safeHost = safeHost.substring(0, MAX_HOST_CHARS);
        }
        return safeHost + "-" + digest(stateDir.toAbsolutePath().normalize().toString());
    }

    private static String hostName() {
        String fromEnvironment = System.getenv("HOSTNAME");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost"; // the state directory's digest still tells instances on this host apart
        }
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
