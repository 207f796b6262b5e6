package io.keymeter.benchmarks;

import io.keymeter.testsupport.Health;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A JVM started by a benchmark, so its start-up time and resident memory can be measured from outside. */
final class ChildJvm implements AutoCloseable {

    private final Process process;
    final long startedNanos;

    private ChildJvm(Process process, long startedNanos) {
        this.process = process;
        this.startedNanos = startedNanos;
    }

    static ChildJvm start(Path log, List<String> jvmArgs, String mainClass, List<String> args) throws IOException {
        return launch(log, jvmArgs, List.of("-cp", System.getProperty("java.class.path"), mainClass), args);
    }

    /** {@code java [jvmArgs] -jar jar [args]}: the packaged application, started the way its users start it. */
    static ChildJvm startJar(Path log, List<String> jvmArgs, Path jar, List<String> args) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: build it with -am (package)");
        }
        return launch(log, jvmArgs, List.of("-jar", jar.toString()), args);
    }

    private static ChildJvm launch(Path log, List<String> jvmArgs, List<String> what, List<String> args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(what);
        command.addAll(args);
        long started = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new ChildJvm(p, started);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * RSS once it stops moving: first read after {@code atLeast} (the catch-up's garbage, the collector giving heap
     * back), then sampled every second until two samples in a row are within 1 % of each other, for at most 20 s
     * more (then the last sample).
     */
    long settledRssBytes(Duration atLeast) throws IOException, InterruptedException {
        Thread.sleep(atLeast.toMillis()); // the settling time itself, as the earlier fixed wait measured it
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long previous = rssBytes();
        while (true) {
            Thread.sleep(1000); // the sampling period
            long current = rssBytes();
            if (Math.abs(current - previous) <= previous / 100 || System.nanoTime() > deadline) {
                return current;
            }
            previous = current;
        }
    }

    /** Resident set size in bytes, from /proc. */
    long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for " + process.pid());
    }

    /** Polls {@code /actuator/health} on {@code httpPort} until the overall status is UP (3 minutes at most). */
    void awaitHealthUp(int httpPort) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                throw new IllegalStateException("keymeter exited during start-up");
            }
            try {
                if (Health.isUp(http.send(health, HttpResponse.BodyHandlers.ofString()).body())) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20); // poll; a spin would steal a core from the JVM being measured
        }
        throw new IllegalStateException("health not UP within 3 minutes");
    }

    /** SIGKILL, as a crash: no shutdown hook runs. Returns once the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Waits for the JVM to exit by itself; its exit code, or -1 (and it is killed) when it did not in time. */
    int waitFor(Duration timeout) throws InterruptedException {
        if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return process.exitValue();
        }
        process.destroyForcibly().waitFor();
        return -1;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
