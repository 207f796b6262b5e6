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

/**
 * Files the shipper cannot read, a state it cannot use and options it cannot take are one line on standard error and
 * exit code 1 (2 is for a server that cannot be reached), with nothing sent.
 */
class ShipperCommandTest {

    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicInteger posts = new AtomicInteger();
    private final List<String> paths = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Each request's {@code Upgrade} header ("none" without one): the JDK's HTTP/2 client asks for h2c there. */
    private final List<String> upgrades = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
        server.createContext("/", exchange -> {
            paths.add(exchange.getRequestURI().getPath());
            upgrades.add(String.valueOf(exchange.getRequestHeaders().getFirst("Upgrade")).replace("null", "none"));
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

    /** A rotated log compressed by logrotate went as bytes: every "line" refused, exit 0, saved as shipped, never billed. */
    @Test
    void aGzipFileIsRefusedBeforeAnythingIsSent() throws IOException {
        Path good = goodFile();
        Path gz = dir.resolve("old.ndjson.gz");
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write("{\"requestId\":\"r2\"}\n".getBytes(StandardCharsets.UTF_8));
        }

        Run run = ship("--token", "t", good.toString(), gz.toString());

        assertRefusedWithNothingSent(run, "ship: " + gz + " is gzip-compressed: give it decompressed (zcat " + gz
                + " | ship ..., which has no resume) or leave it out; nothing sent\n");
    }

    /** Standard input compressed (a rotated log piped in whole) went as bytes too. */
    @Test
    void gzipOnStandardInputIsRefused() throws IOException {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write("{\"requestId\":\"r2\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream(gz.toByteArray()));
            Run run = ship("--token", "t");
            assertRefusedWithNothingSent(run, "ship: standard input is gzip-compressed: decompress it first (zcat FILE"
                    + " | ship ...); nothing sent\n");
        } finally {
            System.setIn(stdin);
        }
    }

    /** A UTF-16 log (with or without its byte-order mark) was read as UTF-8: its first line taken, the rest lost. */
    @Test
    void aUtf16FileIsRefusedBeforeAnythingIsSent() throws IOException {
        Path good = goodFile();
        Path withMark = Files.writeString(dir.resolve("bom.ndjson"), "{\"requestId\":\"r2\"}\n", StandardCharsets.UTF_16);
        Path withoutMark = Files.writeString(dir.resolve("le.ndjson"), "{\"requestId\":\"r3\"}\n",
                StandardCharsets.UTF_16LE);

        for (Path file : List.of(withMark, withoutMark)) {
            assertRefusedWithNothingSent(ship("--token", "t", good.toString(), file.toString()), "ship: " + file
                    + " is not UTF-8 (UTF-16 or UTF-32: a byte order mark, or NUL bytes between its first characters):"
                    + " convert it (iconv -f UTF-16"
                    + " -t UTF-8) or leave it out; nothing sent\n");
        }
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("{\"requestId\":\"r4\"}\n".getBytes(StandardCharsets.UTF_16)));
            assertRefusedWithNothingSent(ship("--token", "t"), "ship: standard input is not UTF-8 (UTF-16 or UTF-32:"
                    + " a byte order mark, or NUL bytes between its first characters): convert it first (iconv -f UTF-16"
                    + " -t UTF-8 FILE | ship ...);"
                    + " nothing sent\n");
        } finally {
            System.setIn(stdin);
        }
    }

    /** A typo in --state's directory made it, and a new state there: every file sent again from its start. */
    @Test
    void aStateDirectoryThatDoesNotExistIsRefused() throws IOException {
        Path good = goodFile();
        Path state = dir.resolve("stat").resolve("ship.state");

        Run run = ship("--token", "t", "--state", state.toString(), good.toString());

        assertRefusedWithNothingSent(run, "ship: the directory of the state file " + state + " does not exist: make it,"
                + " or correct --state; nothing sent\n");
        assertThat(dir.resolve("stat")).doesNotExist();
    }

    /** A damaged state file was a stack trace (a number that was none), or read as no state at all. */
    @Test
    void aDamagedStateFileIsNamedAndNothingIsSent() throws IOException {
        Path good = goodFile();
        Files.writeString(dir.resolve("ship.state"), good.toAbsolutePath() + "=abc def\n");

        Run run = ship("--token", "t", good.toString());

        assertRefusedWithNothingSent(run, "ship: the state file " + dir.resolve("ship.state") + " is damaged (the entry for "
                + good.toAbsolutePath() + "): fix it, or delete it to send every file from its start; nothing sent\n");
    }

    /** A state file under a regular file was named by Java's exception ("FileAlreadyExistsException"). */
    @Test
    void aStatePathUnderAFileIsRefusedSayingWhy() throws IOException {
        Path good = goodFile();
        Path state = good.resolve("ship.state");

        Run run = ship("--token", "t", "--state", state.toString(), good.toString());

        assertRefusedWithNothingSent(run, "ship: cannot write beside the state file " + state
                + " (a file stands where a directory is needed); nothing sent\n");
    }

    /** Two runs on one state file each sent what the other sent, or lost the other's positions. */
    @Test
    void aStateFileInUseByAnotherRunIsRefused() throws IOException {
        Path good = goodFile();
        try (java.nio.channels.FileChannel lock = java.nio.channels.FileChannel.open(dir.resolve("ship.state.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = lock.lock()) {
            Run run = ship("--token", "t", good.toString());

            assertRefusedWithNothingSent(run, "ship: the state file " + dir.resolve("ship.state")
                    + " is in use by another ship run; nothing sent\n");
        }
        assertThat(ship("--token", "t", good.toString()).exit()).as("free again").isZero();
    }

    /**
     * A mistyped option exited 2, which says "gave up after retries" (a wrapper retrying on 2 retried a typo for
     * ever), and an address without a scheme was a stack trace.
     */
    @Test
    void aWrongOptionOrAddressExits1() throws IOException {
        Path good = goodFile();

        assertThat(ship("--token", "t", "--batch-lines=abc", good.toString()).exit()).isEqualTo(1);
        Run bogus = ship("--token", "t", "--bogus", good.toString());
        assertThat(bogus.exit()).isEqualTo(1);
        // the line that says what is wrong, not 40 lines of usage around it
        assertThat(bogus.err()).isEqualTo("ship: Unknown option: '--bogus'\nOptions: ship --help. Nothing sent.\n");
        Run noScheme = ship("--token", "t", "--url", "localhost:8080", good.toString());
        assertRefusedWithNothingSent(noScheme, "ship: --url must be an http:// or https:// address such as"
                + " http://localhost:8080, not localhost:8080; nothing sent\n");
    }

    /**
     * A batch larger than Keymeter takes is refused whole (413, or 400 when every line of a backfill is too old), and
     * each run sent the same batch again: the file never got past it. Such options are refused before anything is sent.
     */
    @Test
    void batchesLargerThanKeymeterTakesAreRefused() throws IOException {
        Path good = goodFile();
        String refused = "ship: --batch-lines is at most 100000 and --batch-bytes at most 16707582 (16 MiB less the"
                + " longest line and gzip's overhead), the largest batch Keymeter takes; nothing sent\n";

        assertRefusedWithNothingSent(ship("--token", "t", "--batch-lines", "100001", good.toString()), refused);
        assertRefusedWithNothingSent(ship("--token", "t", "--batch-bytes", "16707583", "--no-gzip", good.toString()),
                refused);
        assertThat(ship("--token", "t", "--batch-lines", "100000", "--batch-bytes", "16707582", good.toString()).exit())
                .as("the largest taken").isZero();
    }

    /** Behind a proxy at a path of its own: the path was dropped (http://host/keymeter/ posted to /v1/requests). */
    @Test
    void theBaseUrlsPathIsKept() throws IOException {
        Path good = goodFile();

        Run run = ship("--token", "t", "--url", "http://localhost:" + server.getAddress().getPort() + "/keymeter",
                good.toString());

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(paths).containsExactly("/keymeter/v1/requests");
    }

    private Path goodFile() throws IOException {
        return Files.writeString(dir.resolve("good.ndjson"), "{\"requestId\":\"r1\"}\n");
    }

    private void assertRefusedWithNothingSent(Run run, String err) {
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).isEqualTo(err);
        assertThat(posts).hasValue(0);
    }

    @Test
    void theShipperDropsIdleConnectionsBeforeKeymeterClosesThemUnlessTheJvmWasToldOtherwise() {
        java.util.Properties unset = new java.util.Properties();
        ShipperCommand.keepIdleConnectionsShort(unset);
        assertThat(unset.getProperty(ShipperCommand.KEEP_ALIVE_PROPERTY)).isEqualTo("20");
        java.util.Properties chosen = new java.util.Properties();
        chosen.setProperty(ShipperCommand.KEEP_ALIVE_PROPERTY, "5");
        ShipperCommand.keepIdleConnectionsShort(chosen);
        assertThat(chosen.getProperty(ShipperCommand.KEEP_ALIVE_PROPERTY)).isEqualTo("5");
        // well under Jetty's default idle timeout (Keymeter's, 30 s), with room for a late reuse: and so shorter
        // than the longest wait between attempts, so no attempt goes out on a connection idle that long
        java.time.Duration keepAlive = java.time.Duration.ofSeconds(Long.parseLong(ShipperCommand.KEEP_ALIVE_SECONDS));
        assertThat(keepAlive).isLessThanOrEqualTo(java.time.Duration.ofSeconds(30 - 5));
        String longestBackoff = new picocli.CommandLine(new ShipperCommand()).getCommandSpec()
                .findOption("--max-backoff").defaultValue();
        assertThat(keepAlive).isLessThan(java.time.Duration.parse(longestBackoff));
    }

    @Test
    void aShipRunSetsTheKeepAliveUnlessTheJvmWasGivenOne() throws IOException {
        // surefire's JVM has it set already (the root pom); taken away here to see the command set it
        String before = System.clearProperty(ShipperCommand.KEEP_ALIVE_PROPERTY);
        try {
            Run run = ship("--token", "t", goodFile().toString());
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(posts.get()).isPositive();
            assertThat(System.getProperty(ShipperCommand.KEEP_ALIVE_PROPERTY)).isEqualTo(ShipperCommand.KEEP_ALIVE_SECONDS);
            // HTTP/1.1, whose connections that keep-alive covers: an HTTP/2 client asks for an h2c upgrade
            assertThat(upgrades).isNotEmpty().containsOnly("none");
        } finally {
            if (before == null) {
                System.clearProperty(ShipperCommand.KEEP_ALIVE_PROPERTY);
            } else {
                System.setProperty(ShipperCommand.KEEP_ALIVE_PROPERTY, before);
            }
        }
    }

    private Run ship(String... args) {
        List<String> argv = new ArrayList<>(List.of("--no-progress"));
        argv.addAll(List.of(args));
        if (!argv.contains("--state")) {
            argv.addAll(0, List.of("--state", dir.resolve("ship.state").toString()));
        }
        if (!argv.contains("--url")) {
            argv.addAll(0, List.of("--url", "http://localhost:" + server.getAddress().getPort()));
        }
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
