package io.keymeter.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A port free on the loopback interface right now: for the embedded broker asked for "any free port", and for the
 * tests and benchmarks that must restart a broker or an app on the same port. Taken below the kernel's ephemeral
 * range (Linux's {@code ip_local_port_range}, 32768 by default): a port from that range, free when chosen, was now
 * and then taken by one of the many client connections opened before the server bound it (a test's second
 * instance failed "Port … is already in use"). Never the same port twice in one JVM: two ports asked for before
 * either is bound (a broker and its controller) could otherwise be one. JVMs running side by side (the test forks)
 * each name a slice of that range in {@value #SLICE_PROPERTY}, so none can pick a port another picked and has not
 * bound yet.
 */
public final class FreePorts {

    static final int LOWEST = 10_000;
    /** System property: which of {@link #SLICES} parts of the range this JVM takes from, 1 to 4 (surefire's fork). */
    static final String SLICE_PROPERTY = "keymeter.free-ports.slice";
    static final int SLICES = 4;
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final Set<Integer> handedOut = new HashSet<>();

    private FreePorts() {
    }

    public static synchronized int next() {
        int[] range = range(System.getProperty(SLICE_PROPERTY), ephemeralStart());
        if (range == null) {
            return anyFree(); // an unusual range: leave the choice to the kernel
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(range[0], range[1] + 1);
            if (!handedOut.contains(port) && free(port)) {
                handedOut.add(port);
                return port;
            }
        }
        throw new UncheckedIOException(new IOException("no free port between " + range[0] + " and " + range[1]));
    }

    /**
     * The lowest and highest port to pick from below {@code ephemeralStart}: the slice named (a number from 1 to
     * {@link #SLICES}, leading zeros allowed; anything else, or none, takes the whole range), or null when the range
     * is too small to share.
     */
    static int[] range(String slice, int ephemeralStart) {
        int highest = ephemeralStart - 1;
        if (highest - LOWEST < 1_000) {
            return null;
        }
        int part = slice == null || !slice.matches("[0-9]{1,3}") ? 0 : Integer.parseInt(slice);
        if (part < 1 || part > SLICES) {
            return new int[] {LOWEST, highest};
        }
        int width = (highest - LOWEST + 1) / SLICES;
        int low = LOWEST + (part - 1) * width;
        return new int[] {low, part == SLICES ? highest : low + width - 1};
    }

    /** {@code preferred} when it is a port and free now (a broker's port of its last run), else {@link #next()}. */
    public static synchronized int preferring(int preferred) {
        if (preferred > 0 && preferred <= 65_535 && free(preferred)) {
            handedOut.add(preferred);
            return preferred;
        }
        return next();
    }

    /** Where the kernel starts picking ports for outgoing connections (32768 when it does not say). */
    static int ephemeralStart() {
        try {
            // line by line: Files.readString of this /proc file answered "3" on the build machine
            int start = Integer.parseInt(Files.readAllLines(EPHEMERAL_RANGE).get(0).trim().split("\\s+")[0]);
            return start >= 1_024 ? start : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    private static int anyFree() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            handedOut.add(socket.getLocalPort());
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
