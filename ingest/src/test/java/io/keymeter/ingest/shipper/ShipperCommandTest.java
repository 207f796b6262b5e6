package io.keymeter.ingest.shipper;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files the shipper cannot read are one line on standard error and exit code 1, with nothing sent. */
class ShipperCommandTest {

    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicInteger posts = new AtomicInteger();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
        server.createContext("/v1/requests", exchange -> {
            posts.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            byte[] body = "{\"accepted\":1,\"rejected\":[]}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(202, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void aMissingFileAmongOthersStopsTheRunBeforeAnythingIsSent() throws IOException {
        Path good = goodFile();
        Path missing = dir.resolve("missing.ndjson");

        Run run = ship("--token", "t", good.toString(), missing.toString());

        assertRefusedWithNothingSent(run, "ship: cannot read " + missing + ": no such file; nothing sent\n");
    }

    @Test
    void aDirectoryIsNotAFileToShip() {
        Run run = ship("--token", "t", dir.toString());

        assertRefusedWithNothingSent(run, "ship: cannot read " + dir + "; nothing sent\n");
    }

    @Test
    void aMissingTokenFileIsOneLineNotAStackTrace() throws IOException {
        Path good = goodFile();
        Path token = dir.resolve("no-token");

        Run run = ship("--token-file", token.toString(), good.toString());

        assertRefusedWithNothingSent(run, "ship: no such file: " + token + "\n");
    }

    @Test
    void readableFilesAreShipped() throws IOException {
        Path good = goodFile();

        Run run = ship("--token", "t", good.toString());

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(posts).hasValue(1);
    }

    private Path goodFile() throws IOException {
        return Files.writeString(dir.resolve("good.ndjson"), "{\"requestId\":\"r1\"}\n");
    }

    private void assertRefusedWithNothingSent(Run run, String err) {
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).isEqualTo(err);
        assertThat(posts).hasValue(0);
    }

    private Run ship(String... args) {
        List<String> argv = new ArrayList<>(List.of("--url", "http://localhost:" + server.getAddress().getPort(),
                "--state", dir.resolve("ship.state").toString(), "--no-progress"));
        argv.addAll(List.of(args));
        PrintStream stderr = System.err;
        PrintStream stdout = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            int exit = ShipperCommand.run(argv.toArray(String[]::new));
            return new Run(exit, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(stderr);
            System.setOut(stdout);
        }
    }

    record Run(int exit, String err) {
    }
}
