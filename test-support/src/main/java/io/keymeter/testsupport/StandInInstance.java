package io.keymeter.testsupport;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;

/**
 * Another Keymeter instance, stood in for by the JDK's HTTP server on a free local port: it answers the given paths
 * with fixed problem documents, for tests of what a forwarding instance makes of the owner's answer.
 */
public final class StandInInstance implements AutoCloseable {

    private final HttpServer server;

    private StandInInstance(HttpServer server) {
        this.server = server;
    }

    public static StandInInstance start() throws IOException {
        return startOn("localhost");
    }

    /** Whether this machine can listen on {@code host} (a build host without IPv6 has no {@code ::1}). */
    public static boolean canListenOn(String host) {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    /** On this host's address, e.g. {@code ::1} for an instance reached by its IPv6 address. */
    public static StandInInstance startOn(String host) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, 0), 0);
        server.start();
        return new StandInInstance(server);
    }

    /** Answers {@code path} with a problem document of this status and detail, plus headers given as name, value. */
    public StandInInstance problem(String path, int status, String detail, String... headers) {
        byte[] body = ("{\"status\":" + status + ",\"detail\":\"" + detail + "\"}").getBytes(StandardCharsets.UTF_8);
        server.createContext(path, exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/problem+json");
            for (int i = 0; i < headers.length; i += 2) {
                exchange.getResponseHeaders().set(headers[i], headers[i + 1]);
            }
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
