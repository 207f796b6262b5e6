package io.keymeter.testsupport;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One real embedded broker per test JVM, started on first use on a free port; it ends with the JVM.
 * Tests isolate themselves by unique application ids and topic names, not by restarting the broker.
 */
public final class SharedKafka {

    private static EmbeddedKafkaBroker broker;

    private SharedKafka() {
    }

    public static synchronized EmbeddedKafkaBroker broker() {
        if (broker == null) {
            try {
                Path dir = Files.createTempDirectory("keymeter-test-kafka");
                // not stopped by a shutdown hook: it would race the Spring contexts' own hooks, whose clients then
                // retry against a dead broker until surefire kills the JVM; the JVM's exit ends it
                broker = new EmbeddedKafkaBroker(dir, 0).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return broker;
    }

    public static String bootstrapServers() {
        return broker().bootstrapServers();
    }
}
