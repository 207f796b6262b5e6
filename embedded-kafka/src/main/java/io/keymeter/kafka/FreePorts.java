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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A port free on the loopback interface right now: for the embedded broker asked for "any free port", and for the
 * tests and benchmarks that must restart a broker or an app on the same port. Taken below the kernel's ephemeral
 * range (Linux's {@code ip_local_port_range}, 32768 by default): a port from that range, free when chosen, was now
 * and then taken by one of the many client connections opened before the server bound it (a test's second
 * instance failed "Port … is already in use"). Never the same port twice in one JVM: two ports asked for before
 * either is bound (a broker and its controller) could otherwise be one. JVMs of one surefire run side by side (its
 * forks) each name their own slice of that range in {@value #SLICE_PROPERTY}, so none can pick a port another picked
 * and has not bound yet; a JVM without it (an IDE's run, another build beside) takes from the whole range.
 */
public final class FreePorts {

    static final int LOWEST = 10_000;
    /** System property {@code k/n}: this JVM takes ports from the k-th of n equal parts of the range (surefire's fork). */
    static final String SLICE_PROPERTY = "keymeter.free-ports.slice";
    private static final Pattern SLICE = Pattern.compile("0*([1-9][0-9]{0,2})/([1-9][0-9]{0,2})");
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
     * The lowest and highest port to pick from below {@code ephemeralStart}: the slice named ({@code k/n}, leading
     * zeros allowed, 1 ≤ k ≤ n, at least 100 ports a slice; anything else, or none, takes the whole range), or null
     * when the range is too small to share.
     */
    static int[] range(String slice, int ephemeralStart) {
        int highest = ephemeralStart - 1;
        if (highest - LOWEST < 1_000) {
            return null;
        }
        Matcher named = slice == null ? null : SLICE.matcher(slice);
        if (named == null || !named.matches()) {
            return new int[] {LOWEST, highest};
        }
        int part = Integer.parseInt(named.group(1));
        int parts = Integer.parseInt(named.group(2));
        int width = (highest - LOWEST + 1) / parts;
        if (part > parts || width < 100) {
            return new int[] {LOWEST, highest};
        }
        int low = LOWEST + (part - 1) * width;
        return new int[] {low, part == parts ? highest : low + width - 1};
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
