package io.keymeter.ingest.shipper;

import io.keymeter.ingest.http.BatchIngestor;
import io.keymeter.ingest.http.RequestsController;
import io.keymeter.ingest.parse.BatchReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar keymeter.jar ship [options] [files…]}: sends gateway request logs (NDJSON) to
 * {@code POST /v1/requests}. Exit code 0 when every batch was acknowledged (even with rejected lines), 1 when the
 * server refused a batch for good (bad token, bad body), a file or the state could not be used, or an option was
 * wrong, 2 only when it could not be reached or kept answering 503 (a wrapper that retries on 2 retried a typo for
 * ever: picocli's own code for a bad option is 2). A file that cannot be read is one line on standard error, never a
 * stack trace.
 */
@Command(name = "ship", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Send NDJSON request logs to Keymeter's POST /v1/requests, resuming where the last run stopped.")
public final class ShipperCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "NDJSON files, one request a line. None: read standard input "
            + "(no resume for standard input).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--url", defaultValue = "http://localhost:8080", description = "Keymeter base URL (default: ${DEFAULT-VALUE})")
    URI url;

    @Option(names = "--token", description = "Gateway token; default: environment KEYMETER_GATEWAY_TOKEN."
            + " Shows in the process list: prefer --token-file or the environment")
    String token;

    @Option(names = "--token-file", description = "File holding the gateway token, e.g. data/gateway-token")
    Path tokenFile;

    @Option(names = "--state", defaultValue = ".keymeter-ship.state",
            description = "State file remembering how far each file was acknowledged (default: ${DEFAULT-VALUE})")
    Path stateFile;

    @Option(names = "--batch-lines", defaultValue = "5000", description = "Lines per batch (default: ${DEFAULT-VALUE})")
    int batchLines;


    /**
     * The largest {@code --batch-bytes} whose batches Keymeter takes: a batch closes after the line that reaches the
     * setting (up to {@link Shipper#LINE_SENT_BYTES} and its newline more), and gzip grows bytes it cannot compress
     * by 5 in every 64 KiB; the body may be 16 MiB.
     */
    static final int MAX_BATCH_BYTES = (int) RequestsController.MAX_BODY - Shipper.LINE_SENT_BYTES - 4096;

    @Option(names = "--batch-bytes", defaultValue = "4194304",
            description = "Uncompressed bytes per batch, at most (default: ${DEFAULT-VALUE})")
    int batchBytes;

    @Option(names = "--no-gzip", description = "Send batches uncompressed")
    boolean noGzip;

    @Option(names = "--max-attempts", defaultValue = "10",
            description = "Attempts per batch on 503 or connection errors (default: ${DEFAULT-VALUE})")
    int maxAttempts;

    @Option(names = "--max-backoff", defaultValue = "PT30S", description = "Longest wait between attempts (default: ${DEFAULT-VALUE})")
    Duration maxBackoff;

    @Option(names = "--no-progress", description = "No progress bar, even on a terminal")
    boolean noProgress;

    /** The JDK HttpClient's property for how long it keeps an idle connection (Java 17: 1,200 s, Java 21: 30 s). */
    static final String KEEP_ALIVE_PROPERTY = "jdk.httpclient.keepalive.timeout";

    /**
     * Seconds the shipper keeps an idle connection unless the JVM was told otherwise: under the 30 s after which
     * Keymeter (Jetty) closes one. After a 30 s backoff (the longest, and a 503's {@code Retry-After: 30}) the next
     * attempt went out on a connection the server was closing just then, got no answer (a POST is not sent again by
     * the JDK) and cost an attempt and another wait.
     */
    static final String KEEP_ALIVE_SECONDS = "20";

    /** Runs the command; returns the exit code. */
    public static int run(String... args) {
        // read once, by the first HttpClient the JVM builds: the shipper's, as it runs in a JVM of its own
        keepIdleConnectionsShort(System.getProperties());
        CommandLine commandLine = new CommandLine(new ShipperCommand());
        commandLine.getCommandSpec().exitCodeOnInvalidInput(1);
        return commandLine
                .setParameterExceptionHandler(ShipperCommand::badOption)
                .setExecutionExceptionHandler((e, command, parsed) -> {
                    if (!(e instanceof IOException)) {
                        throw e; // a bug, not the user's input: picocli prints it whole
                    }
                    command.getErr().println("ship: " + describe((IOException) e));
                    return 1;
                })
                .execute(args);
    }

    /**
     * A mistyped option is its message, picocli's suggestion when it has one, and where the options are: the whole
     * usage (40 lines) buried the line that said what was wrong.
     */
    private static int badOption(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("ship: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Options: ship --help. Nothing sent.");
        return 1;
    }

    /** Sets the idle connections' keep-alive to {@link #KEEP_ALIVE_SECONDS} where none is set. */
    static void keepIdleConnectionsShort(java.util.Properties system) {
        system.putIfAbsent(KEEP_ALIVE_PROPERTY, KEEP_ALIVE_SECONDS);
    }

    /** What went wrong, in one line: which file and why. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException missing) {
            return "no such file: " + missing.getFile();
        }
        if (e instanceof AccessDeniedException denied) {
            return "permission denied: " + denied.getFile();
        }
        if (e instanceof FileSystemException file) {
            return "cannot read " + file.getFile() + (file.getReason() == null ? "" : ": " + file.getReason());
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Bytes of a file's head looked at before it is sent. */
    private static final int HEAD = 512;

    private static byte[] head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(HEAD);
        }
    }

    /** Looks at the stream's head and leaves it to be read. */
    private static byte[] head(InputStream in) throws IOException {
        in.mark(HEAD);
        byte[] head = in.readNBytes(HEAD);
        in.reset();
        return head;
    }

    /** A gzip file starts with 1f 8b. */
    static boolean gzipped(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
    }

    /** UTF-16 or UTF-32 (a Windows tool's "Unicode" log): read as UTF-8, only its first line was taken. */
    static boolean notUtf8(byte[] head) {
        return BatchReader.notUtf8(head, head.length);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    @Override
    public Integer call() throws Exception {
        String gatewayToken = token != null ? token
                : tokenFile != null ? Files.readString(tokenFile).trim()
                : System.getenv("KEYMETER_GATEWAY_TOKEN");
        if (gatewayToken == null || gatewayToken.isBlank()) {
            System.err.println("No gateway token: use --token, --token-file or KEYMETER_GATEWAY_TOKEN");
            return 1;
        }
        for (Path file : files) {
            if (!Files.isReadable(file) || Files.isDirectory(file)) {
                // before anything is sent: a typo in the last of many files should not leave the others half shipped
                System.err.println("ship: cannot read " + file + (Files.exists(file) ? "" : ": no such file")
                        + "; nothing sent");
                return 1;
            }
            byte[] head = head(file);
            if (gzipped(head)) {
                // its bytes went as lines, every one refused, exit 0, and the file saved as shipped: never billed
                System.err.println("ship: " + file + " is gzip-compressed: give it decompressed (zcat " + file
                        + " | ship ..., which has no resume) or leave it out; nothing sent");
                return 1;
            }
            if (notUtf8(head)) {
                System.err.println("ship: " + file + " is not UTF-8 (UTF-16 or UTF-32: a byte order mark, or NUL bytes"
                        + " between its first characters): convert it (iconv -f UTF-16 -t UTF-8) or leave it out;"
                        + " nothing sent");
                return 1;
            }
        }
        if (url.getHost() == null || !("http".equalsIgnoreCase(url.getScheme()) || "https".equalsIgnoreCase(url.getScheme()))) {
            System.err.println("ship: --url must be an http:// or https:// address such as http://localhost:8080, not "
                    + url + "; nothing sent");
            return 1;
        }
        if (batchLines < 1 || batchBytes < 1024 || maxAttempts < 1) {
            System.err.println("--batch-lines and --max-attempts must be positive, --batch-bytes at least 1024");
            return 1;
        }
        if (batchLines > BatchIngestor.MAX_LINE_ERRORS || batchBytes > MAX_BATCH_BYTES) {
            // the server refuses such a batch whole (413; 400 when every line is too old), and every run would send
            // the same batch again: the file would never get past it
            System.err.println("ship: --batch-lines is at most " + BatchIngestor.MAX_LINE_ERRORS + " and --batch-bytes"
                    + " at most " + MAX_BATCH_BYTES + " (16 MiB less the longest line and gzip's overhead), the"
                    + " largest batch Keymeter takes; nothing sent");
            return 1;
        }
        InputStream stdin = new BufferedInputStream(System.in);
        byte[] stdinHead = files.isEmpty() ? head(stdin) : new byte[0];
        if (gzipped(stdinHead)) {
            System.err.println("ship: standard input is gzip-compressed: decompress it first (zcat FILE | ship ...);"
                    + " nothing sent");
            return 1;
        }
        if (notUtf8(stdinHead)) {
            System.err.println("ship: standard input is not UTF-8 (UTF-16 or UTF-32: a byte order mark, or NUL"
                    + " bytes between its first characters): convert it first (iconv -f UTF-16 -t UTF-8 FILE | ship"
                    + " ...); nothing sent");
            return 1;
        }
        BatchPoster poster = new BatchPoster(url, gatewayToken, !noGzip, maxAttempts, Duration.ofMillis(500), maxBackoff);
        boolean console = System.console() != null && !noProgress;
        // standard input keeps no state, and takes no lock
        try (ShipState state = files.isEmpty() ? ShipState.load(stateFile) : ShipState.lockAndLoad(stateFile)) {
            if (!files.isEmpty() && !state.exists()) {
                System.err.println("ship: no state file " + stateFile.toAbsolutePath()
                        + " yet: every file is sent from its start");
            }
            Shipper shipper = new Shipper(poster, state, batchLines, batchBytes, console ? new ProgressBar(System.out) : null);
            long started = System.nanoTime();
            int exit = 0;
            try {
                shipper.ship(files, stdin);
            } catch (BatchPoster.ShipException e) {
                System.err.println("Stopped: " + e.getMessage());
                exit = e.getMessage().startsWith("gave up") ? 2 : 1;
            }
            shipper.summary().print(System.out, (System.nanoTime() - started) / 1e9);
            return exit;
        }
    }
}
