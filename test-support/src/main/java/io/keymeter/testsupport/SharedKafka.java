package io.keymeter.testsupport;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;

/**
 * One real embedded broker per test JVM, started on first use on a free port; it ends with the JVM, and its log
 * directory is deleted by the first {@link TempDirs#create} of a later JVM.
 * Tests isolate themselves by unique application ids and topic names, not by restarting the broker.
 */
public final class SharedKafka {

    private static EmbeddedKafkaBroker broker;

    private SharedKafka() {
    }

    public static synchronized EmbeddedKafkaBroker broker() {
        if (broker == null) {
            Path dir = TempDirs.create("keymeter-test-kafka");
            // not stopped by a shutdown hook: it would race the Spring contexts' own hooks, whose clients then
            // retry against a dead broker until surefire kills the JVM; the JVM's exit ends it
            broker = new EmbeddedKafkaBroker(dir, 0).start();
        }
        return broker;
    }

    public static String bootstrapServers() {
        return broker().bootstrapServers();
    }
}
