package io.keymeter.testsupport;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One real embedded broker per test JVM, started on first use on a free port and stopped when the JVM exits.
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
                broker = new EmbeddedKafkaBroker(dir, 0).start();
                Runtime.getRuntime().addShutdownHook(new Thread(broker::stop, "embedded-kafka-stop"));
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
