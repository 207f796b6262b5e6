package io.keymeter.app.proof;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.kafka.FreePorts;
import io.keymeter.testsupport.Health;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.rocksdb.util.Environment;

/**
 * Keymeter running in a separate JVM on the test's broker, so a test can kill it with SIGKILL mid-transaction and
 * start it again on the same data dir, as a crash in production would. Output goes to a log file.
 */
final class ChildApp implements AutoCloseable {

    private final List<String> args;
    private final Path log;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();
    private Process process;
    private boolean frozen;

    ChildApp(Path log, String... args) {
        this.log = log;
        this.port = FreePorts.next();
        this.args = new ArrayList<>(List.of(args));
        this.args.add("--server.port=" + port);
    }

    ChildApp start() {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                KeymeterApplication.class.getName()));
        command.addAll(args);
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Waits until /actuator/health answers UP: the broker is reachable and every topology RUNNING. */
    ChildApp awaitHealthy(Duration timeout) {
        HttpRequest health = request("/actuator/health");
        Awaitility.await("child app healthy").atMost(timeout).pollInterval(Duration.ofMillis(250))
                .ignoreExceptions().until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("child app exited with " + process.exitValue() + ", see " + log);
                    }
                    return Health.isUp(http.send(health, HttpResponse.BodyHandlers.ofString()).body());
                });
        return this;
    }

    /** The body of a GET on this app's {@code path}. */
    String get(String path) throws IOException, InterruptedException {
        return http.send(request(path), HttpResponse.BodyHandlers.ofString()).body();
    }

    private HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).timeout(Duration.ofSeconds(2)).build();
    }

    /**
     * SIGSTOP: every thread of the JVM stops where it is and sends nothing more (no commit, no heartbeat) until
     * {@link #thaw()} or {@link #kill()}. Sent by bash's builtin {@code kill}: Java signals a child only to end it.
     */
    void freeze() throws IOException, InterruptedException {
        signal("STOP");
        frozen = true;
    }

    /** SIGCONT: a frozen JVM goes on. */
    void thaw() throws IOException, InterruptedException {
        signal("CONT");
        frozen = false;
    }

    private void signal(String name) throws IOException, InterruptedException {
        if (!process.isAlive()) {
            throw new IllegalStateException("child app already exited with " + process.exitValue() + ", see " + log);
        }
        Process kill = new ProcessBuilder("bash", "-c", "kill -" + name + " " + process.pid())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed, see " + log);
        }
    }

    /**
     * The file RocksDB's native library was mapped from in this JVM, read from Linux's {@code /proc}: by its name
     * under a directory chosen for it (RocksDB's own copy in {@code /tmp} is named at random).
     */
    Optional<Path> rocksDbLibrary() throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc", String.valueOf(process.pid()), "maps"))) {
            return maps.filter(line -> line.endsWith("/" + Environment.getJniLibraryFileName("rocksdb")))
                    .map(line -> Path.of(line.substring(line.indexOf('/')))).findFirst();
        }
    }

    /** SIGKILL: no shutdown hook, no commit, no flush. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            if (frozen) { // a SIGTERM would wait, pending, for a SIGCONT that never comes
                kill();
                return;
            }
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
