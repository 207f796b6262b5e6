package io.keymeter.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A port free on the loopback interface right now: for the embedded broker asked for "any free port", and for the
 * tests and benchmarks that must restart a broker or an app on the same port. Taken below the kernel's ephemeral
 * range (Linux's default starts at 32768): a port from that range, free when chosen, was now and then taken by one of
 * the many client connections opened before the server bound it (a test's second instance failed "Port … is already
 * in use").
 */
public final class FreePorts {

    private FreePorts() {
    }

    static final int LOWEST = 20_000;
    static final int HIGHEST = 32_767;

    public static int next() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, HIGHEST + 1);
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new UncheckedIOException(new IOException("no free port between " + LOWEST + " and " + HIGHEST));
    }
}
