package io.keymeter.benchmarks;

import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.kafka.FreePorts;
import io.keymeter.testsupport.TempDirs;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Time from JVM launch to {@code /actuator/health} UP, every role on the embedded broker, and the process's RSS at
 * idle; baseline: the embedded broker alone in a JVM (time to accept connections, RSS). Then the app is killed
 * (SIGKILL) and started again on the same data: the time to health UP after a crash, against the fresh start. Those
 * run the main class on the test class path with the serial collector; last, {@code java -jar app/target/keymeter.jar}
 * with no options, as the README runs it, to health UP on a fresh data dir. Three rounds each, fresh data dirs.
 */
class StartupBenchmark {

    /** {@code -Dbench.rounds}, as the other benchmarks; {@code -Drounds}, which earlier runs used, still read. */
    private static final int ROUNDS = Integer.getInteger("bench.rounds", Integer.getInteger("rounds", 3));
    private static final List<String> JVM = List.of("-XX:+UseSerialGC");
    /** Surefire runs in the module's directory; {@code -am} packages the app before this module. */
    private static final Path APP_JAR = Path.of("..", "app", "target", "keymeter.jar");

    @Test
    void startupTimeAndIdleMemory() throws Exception {
        Path dir = TempDirs.create("startup-bench");
        for (int round = 1; round <= ROUNDS; round++) {
            double brokerSeconds;
            long brokerRss;
            int brokerPort = FreePorts.next();
            try (ChildJvm broker = ChildJvm.start(dir.resolve("broker.log"), JVM, BrokerOnly.class.getName(),
                    List.of(dir.resolve("broker-" + round).toString(), String.valueOf(brokerPort)))) {
                // polled every 10 ms (a spin would steal a core from the JVM being measured), for 2 minutes at most
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10)).pollInSameThread()
                        .until(() -> accepts(brokerPort));
                brokerSeconds = (System.nanoTime() - broker.startedNanos) / 1e9;
                Thread.sleep(5000); // idle, as below: a settle time before reading RSS, not a wait for work
                brokerRss = broker.rssBytes();
            }
            int httpPort = FreePorts.next();
            List<String> appArgs = List.of("--keymeter.data-dir=" + dir.resolve("app-" + round),
                    "--keymeter.embedded-kafka.port=" + FreePorts.next(), "--server.port=" + httpPort);
            double appSeconds;
            long appRss;
            try (ChildJvm app = ChildJvm.start(dir.resolve("app.log"), JVM, KeymeterApplication.class.getName(),
                    appArgs)) {
                app.awaitHealthUp(httpPort);
                appSeconds = (System.nanoTime() - app.startedNanos) / 1e9;
                Thread.sleep(5000);
                appRss = app.rssBytes();
                app.kill(); // SIGKILL: no group left, no broker shut down cleanly
            }
            double restartSeconds;
            try (ChildJvm app = ChildJvm.start(dir.resolve("app.log"), JVM, KeymeterApplication.class.getName(),
                    appArgs)) {
                app.awaitHealthUp(httpPort);
                restartSeconds = (System.nanoTime() - app.startedNanos) / 1e9;
            }
            // the README's command: the packaged jar, no JVM options (G1 here, nested jars read by Boot's loader)
            double jarSeconds;
            try (ChildJvm app = ChildJvm.startJar(dir.resolve("app.log"), List.of(), APP_JAR,
                    List.of("--keymeter.data-dir=" + dir.resolve("jar-" + round),
                            "--keymeter.embedded-kafka.port=" + FreePorts.next(), "--server.port=" + httpPort))) {
                app.awaitHealthUp(httpPort);
                jarSeconds = (System.nanoTime() - app.startedNanos) / 1e9;
            }
            Figures.print("startup round " + round + ": broker alone, to accepting", brokerSeconds, "s");
            Figures.print("startup round " + round + ": keymeter all roles, to health UP", appSeconds, "s");
            Figures.ratio("startup round " + round + ": keymeter / broker alone", appSeconds, brokerSeconds);
            Figures.print("startup round " + round + ": keymeter after kill -9, same data, to health UP",
                    restartSeconds, "s");
            Figures.ratio("startup round " + round + ": after kill -9 / fresh start", restartSeconds, appSeconds);
            Figures.print("startup round " + round + ": java -jar keymeter.jar, fresh, to health UP", jarSeconds, "s");
            Figures.ratio("startup round " + round + ": java -jar / broker alone", jarSeconds, brokerSeconds);
            Figures.print("idle RSS round " + round + ": broker alone", brokerRss / 1048576.0, "MiB");
            Figures.print("idle RSS round " + round + ": keymeter all roles", appRss / 1048576.0, "MiB");
            Figures.ratio("idle RSS round " + round + ": keymeter / broker alone", appRss, brokerRss);
        }
    }

    private static boolean accepts(int port) {
        try (Socket ignored = new Socket("localhost", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
