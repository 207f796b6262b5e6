package io.keymeter.ingest.shipper;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.keymeter.ingest.http.RequestsController;
import io.keymeter.ingest.parse.BatchReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipper is killed (a child JVM, destroyed) while a batch is in flight, then run again: every line is
 * acknowledged exactly once, in file order. The server is a small stand-in for {@code /v1/requests} that records
 * the lines of the batches it acknowledged, refuses lines marked bad, answers one 503, and can hold a batch
 * unanswered.
 */
@Timeout(120)
class ShipperResumeTest {

    private static final int LINES = 1000;
    private static final int BATCH = 100;
    /** A request line of the longest length the server takes. */
    private static final String LONGEST_LINE = longestLine();

    @TempDir
    Path dir;

    private HttpServer server;
    private final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger largestBody = new AtomicInteger();
    private volatile int holdRequest = -1;
    private volatile int unavailableRequest = -1;
    private volatile int unavailableStatus = 503;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/v1/requests", this::handle);
        server.start();
    }

    @AfterEach
    void stopServer() {
        release.countDown();
        server.stop(0);
    }

    @Test
    void aKilledRunResumesAfterTheLastAcknowledgedBatchWithoutDuplicatesOrGaps() throws Exception {
        Path file = dir.resolve("gateway.ndjson");
        List<String> lines = IntStream.rangeClosed(1, LINES)
                .mapToObj(i -> "{\"requestId\":\"r-" + i + "\"" + (i == 500 ? ",\"bad\":true" : "") + "}").toList();
        Files.writeString(file, String.join("\n", lines) + "\n");
        Path state = dir.resolve("ship.state");
        unavailableRequest = 2;
        holdRequest = 5; // request 2 is a 503 and its retry is request 3: batches 1-3 are acknowledged, batch 4 hangs

        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ShipperCommand.class.getName(),
                "--url", url(), "--token", "t", "--state", state.toString(), "--batch-lines", String.valueOf(BATCH),
                "--no-progress", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        try {
            assertThat(held.await(60, TimeUnit.SECONDS)).as("the shipper reached batch 4").isTrue();
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(acknowledged).hasSize(3 * BATCH);
        release.countDown();
        holdRequest = -1;

        BatchPoster poster = new BatchPoster(URI.create(url()), "t", true, 3, Duration.ofMillis(10), Duration.ofMillis(50));
        Shipper resumed = new Shipper(poster, ShipState.load(state), BATCH, 1 << 20, null);
        resumed.ship(List.of(file), InputStream.nullInputStream());

        assertThat(acknowledged).containsExactlyElementsOf(lines);
        ShipSummary summary = resumed.summary();
        assertThat(summary.sent).isEqualTo(LINES - 3 * BATCH);
        assertThat(summary.accepted).isEqualTo(LINES - 3 * BATCH - 1);
        assertThat(summary.skippedBytes).isPositive();
        assertThat(summary.reasons).containsEntry("line: marked bad", 1L);
        assertThat(summary.examples).containsExactly(file + ":500: line: marked bad");

        // a third run finds everything acknowledged and sends nothing
        int before = requests.get();
        Shipper again = new Shipper(poster, ShipState.load(state), BATCH, 1 << 20, null);
        again.ship(List.of(file), InputStream.nullInputStream());
        assertThat(again.summary().sent).isZero();
        assertThat(requests.get()).isEqualTo(before);
    }

    @Test
    void aLineStillBeingWrittenIsSentWholeOnceItIsComplete() throws Exception {
        Path file = dir.resolve("growing.ndjson");
        Path state = dir.resolve("ship.state");
        Files.writeString(file, "{\"requestId\":\"r-1\"}\n{\"requestId\":\"r-2\"}\n{\"requestId\":\"r-");
        ship(file, state);
        Files.writeString(file, "3\"}\n{\"requestId\":\"r-4\"}\n", StandardOpenOption.APPEND);
        ship(file, state);

        assertThat(acknowledged).as("the cut line was sent as it stood, then whole; the rest once").containsExactly(
                "{\"requestId\":\"r-1\"}", "{\"requestId\":\"r-2\"}", "{\"requestId\":\"r-",
                "{\"requestId\":\"r-3\"}", "{\"requestId\":\"r-4\"}");
        assertThat(ship(file, state).sent).as("a run with nothing new").isZero();
    }

    @Test
    void aCompleteLastLineWithoutItsNewlineIsSentOnce() throws Exception {
        Path file = dir.resolve("finished.ndjson");
        Path state = dir.resolve("ship.state");
        Files.writeString(file, "{\"requestId\":\"r-1\"}\n{\"requestId\":\"r-2\"}");
        ship(file, state);
        // a later run (a nightly one, past metering's dedupe window) must not send r-2 again
        assertThat(ship(file, state).sent).isZero();
        Files.writeString(file, "\r\n{\"requestId\":\"r-3\"}\r\n", StandardOpenOption.APPEND);
        ship(file, state);

        assertThat(acknowledged).containsExactly("{\"requestId\":\"r-1\"}", "{\"requestId\":\"r-2\"}",
                "{\"requestId\":\"r-3\"}\r");
    }

    /**
     * A stretch without newlines (zeros a crash left in a log) was held whole in one batch, which grew without bound
     * and was refused 413 on every run: the lines after it were never sent. Cut to what the server refuses as too
     * long all the same, it is a line error with its number, and the rest follows.
     */
    @Test
    void aLineLongerThanTheServerTakesIsSentCutAndTheLinesAfterItFollow() throws Exception {
        Path file = dir.resolve("crashed.ndjson");
        Path state = dir.resolve("ship.state");
        String stretch = "\u0000".repeat(5 * 1024 * 1024);
        String last = "b".repeat(5 * 1024 * 1024);
        Files.writeString(file, "{\"requestId\":\"r-1\"}\n" + stretch + "\n{\"requestId\":\"r-3\"}\n" + last);

        ShipSummary first = ship(file, state);

        assertThat(acknowledged).hasSize(4);
        assertThat(acknowledged.get(0)).isEqualTo("{\"requestId\":\"r-1\"}");
        assertThat(acknowledged.get(1)).hasSize(Shipper.LINE_SENT_BYTES);
        assertThat(acknowledged.get(2)).isEqualTo("{\"requestId\":\"r-3\"}");
        assertThat(acknowledged.get(3)).as("the unterminated last line, cut too").hasSize(Shipper.LINE_SENT_BYTES)
                .startsWith("bbb");
        assertThat(largestBody.get()).as("bytes in one request").isLessThan(3 * Shipper.LINE_SENT_BYTES);
        assertThat(first.sent).isEqualTo(4);
        // the positions saved are the file's: a run with nothing new sends nothing; the last line, once complete, is
        // known complete and not sent again
        assertThat(ship(file, state).sent).isZero();
        Files.writeString(file, "\n{\"requestId\":\"r-5\"}\n", StandardOpenOption.APPEND);
        ship(file, state);
        assertThat(acknowledged).hasSize(5).last().isEqualTo("{\"requestId\":\"r-5\"}");
    }

    /**
     * A UTF-8 byte order mark at a file's start is not part of its first line's length, for the server either: a line
     * of the longest length the server takes, after one, was cut by the mark's 3 bytes and refused as not valid JSON.
     */
    @Test
    void aByteOrderMarkDoesNotCountInTheFirstLinesLength() throws Exception {
        Path file = dir.resolve("marked.ndjson");
        Files.writeString(file, "\uFEFF" + LONGEST_LINE + "\r\n{\"requestId\":\"r-2\"}\n");

        ship(file, dir.resolve("ship.state"));

        assertThat(acknowledged).hasSize(2);
        assertThat(acknowledged.get(0)).as("the mark and the whole line").isEqualTo("\uFEFF" + LONGEST_LINE + "\r");
        assertThat(acknowledged.get(1)).isEqualTo("{\"requestId\":\"r-2\"}");
    }

    /** The same on standard input read a byte at a time (a pipe may hand over the mark's bytes in separate reads). */
    @Test
    void aByteOrderMarkReadAByteAtATimeDoesNotCountEither() throws Exception {
        byte[] bytes = ("\uFEFF" + LONGEST_LINE + "\n").getBytes(StandardCharsets.UTF_8);
        InputStream trickle = new FilterInputStream(new ByteArrayInputStream(bytes)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 1));
            }
        };
        BatchPoster poster = new BatchPoster(URI.create(url()), "t", true, 3, Duration.ofMillis(10), Duration.ofMillis(50));
        new Shipper(poster, ShipState.load(dir.resolve("ship.state")), BATCH, 1 << 20, null).ship(List.of(), trickle);

        assertThat(acknowledged).containsExactly("\uFEFF" + LONGEST_LINE);
    }

    /** An unterminated last line cut short and then continued is sent again from its start, skipped bytes counted. */
    @Test
    void aCutLastLineThatGrowsIsSentAgainFromItsStart() throws Exception {
        Path file = dir.resolve("growing-long.ndjson");
        Path state = dir.resolve("ship.state");
        Files.writeString(file, "{\"requestId\":\"r-1\"}\n" + "\u0000".repeat(5 * 1024 * 1024) + "\n"
                + "b".repeat(5 * 1024 * 1024));
        ship(file, state);
        Files.writeString(file, "bbb\n{\"requestId\":\"r-4\"}\n", StandardOpenOption.APPEND);
        ship(file, state);

        assertThat(acknowledged).hasSize(5);
        assertThat(acknowledged.get(3)).as("the grown line again, from its start").hasSize(Shipper.LINE_SENT_BYTES)
                .isEqualTo("b".repeat(Shipper.LINE_SENT_BYTES));
        assertThat(acknowledged.get(4)).isEqualTo("{\"requestId\":\"r-4\"}");
    }

    @Test
    void aFileReplacedUnderItsNameIsSentFromItsStart() throws Exception {
        Path file = dir.resolve("rotating.ndjson");
        Path state = dir.resolve("ship.state");
        List<String> before = IntStream.rangeClosed(1, 10).mapToObj(i -> "{\"requestId\":\"a-" + i + "\"}").toList();
        Files.writeString(file, String.join("\n", before) + "\n");
        ship(file, state);
        // rotated: a new log under the same name, already longer than the position saved for the old one
        List<String> after = IntStream.rangeClosed(1, 30).mapToObj(i -> "{\"requestId\":\"b-" + i + "\"}").toList();
        Files.writeString(file, String.join("\n", after) + "\n");
        ship(file, state);

        assertThat(acknowledged).containsExactlyElementsOf(Stream.concat(before.stream(), after.stream()).toList());
    }

    /**
     * A log renamed by its rotation keeps its position under its new name, found by its first bytes: it was sent
     * again whole (its saved position was its old name's), and the lines written to it after the last run and
     * before the rename were found only that way. The new file under the old name is sent from its start.
     */
    @Test
    void aLogRenamedByItsRotationResumesUnderItsNewName() throws Exception {
        Path log = dir.resolve("app.ndjson");
        Path first = dir.resolve("app.ndjson.1");
        Path second = dir.resolve("app.ndjson.2");
        Path state = dir.resolve("ship.state");
        Files.writeString(log, lines("a", 1, 10));
        ship(List.of(log, first, second), state);
        Files.writeString(log, lines("a", 11, 15), StandardOpenOption.APPEND); // after the run, before the rotation
        Files.move(log, first);
        Files.writeString(log, lines("b", 1, 20));
        ship(List.of(log, first, second), state);
        // rotated again, numbered: .1 to .2, the log to .1, a new log
        Files.move(first, second);
        Files.move(log, first);
        Files.writeString(log, lines("c", 1, 5));
        ship(List.of(log, first, second), state);

        assertThat(String.join("\n", acknowledged) + "\n").isEqualTo(lines("a", 1, 10) + lines("b", 1, 20)
                + lines("a", 11, 15) + lines("c", 1, 5));
    }

    /**
     * A proxy in front answers 502 or 504 while Keymeter restarts, or 429; Keymeter or a proxy answers 408 to an
     * upload that stalled (nothing of it taken): retried like a 503, not final (a 408 ended the run, exit 1).
     */
    @ParameterizedTest
    @ValueSource(ints = {408, 429, 502, 504})
    void aPassingRefusalIsRetried(int status) throws Exception {
        Path file = dir.resolve("proxied.ndjson");
        Files.writeString(file, lines("p", 1, 3));
        unavailableRequest = 1;
        unavailableStatus = status;

        ShipSummary summary = ship(file, dir.resolve("ship.state"));

        assertThat(summary.sent).isEqualTo(3);
        assertThat(requests).hasValue(2);
        assertThat(String.join("\n", acknowledged) + "\n").isEqualTo(lines("p", 1, 3));
    }

    /**
     * At the largest {@code --batch-bytes} the shipper takes, a batch of the longest lines fits Keymeter's 16 MiB body:
     * it closes after the line that reaches the setting, and at 16 MiB such a batch went 256 bytes over (413 on every
     * run).
     */
    @Test
    void aBatchAtTheLargestSettingFitsKeymetersBody() throws Exception {
        Path file = dir.resolve("long-lines.ndjson");
        String line = longestLine() + "\n";
        Files.writeString(file, line.repeat(ShipperCommand.MAX_BATCH_BYTES / line.length() + 2));
        BatchPoster poster = new BatchPoster(URI.create(url()), "t", false, 3, Duration.ofMillis(10),
                Duration.ofMillis(50));
        Shipper shipper = new Shipper(poster, ShipState.load(dir.resolve("ship.state")), 100_000,
                ShipperCommand.MAX_BATCH_BYTES, null);
        shipper.ship(List.of(file), InputStream.nullInputStream());

        assertThat(requests).as("two batches").hasValue(2);
        assertThat((long) largestBody.get()).isGreaterThan(ShipperCommand.MAX_BATCH_BYTES)
                .isLessThanOrEqualTo(RequestsController.MAX_BODY);
    }

    private static String lines(String prefix, int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "{\"requestId\":\"" + prefix + "-" + i + "\"}\n")
                .collect(java.util.stream.Collectors.joining());
    }

    private ShipSummary ship(Path file, Path state) throws Exception {
        return ship(List.of(file), state);
    }

    private ShipSummary ship(List<Path> files, Path state) throws Exception {
        BatchPoster poster = new BatchPoster(URI.create(url()), "t", true, 3, Duration.ofMillis(10), Duration.ofMillis(50));
        Shipper shipper = new Shipper(poster, ShipState.load(state), BATCH, 1 << 20, null);
        shipper.ship(files.stream().filter(Files::exists).toList(), InputStream.nullInputStream());
        return shipper.summary();
    }

    private static String longestLine() {
        String prefix = "{\"requestId\":\"r-1\",\"pad\":\"";
        return prefix + "p".repeat(BatchReader.MAX_LINE_BYTES - prefix.length() - 2) + "\"}";
    }

    private String url() {
        return "http://localhost:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        int request = requests.incrementAndGet();
        InputStream in = exchange.getRequestBody();
        if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(in);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        in.transferTo(body);
        largestBody.accumulateAndGet(body.size(), Math::max);
        if (request == holdRequest) {
            held.countDown();
            try {
                release.await(90, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        if (request == unavailableRequest) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            respond(exchange, unavailableStatus, "{\"status\":" + unavailableStatus + ",\"detail\":\"busy\"}");
            return;
        }
        String[] lines = body.toString(StandardCharsets.UTF_8).split("\n");
        StringBuilder rejected = new StringBuilder();
        long accepted = 0;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains("\"bad\"")) {
                rejected.append(rejected.isEmpty() ? "" : ",").append("{\"line\":").append(i + 1)
                        .append(",\"error\":\"line: marked bad\"}");
            } else {
                accepted++;
            }
        }
        synchronized (acknowledged) {
            acknowledged.addAll(List.of(lines));
        }
        respond(exchange, 202, "{\"accepted\":" + accepted + ",\"rejected\":[" + rejected + "]}");
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
