package io.keymeter.benchmarks;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;

/** The start-up baseline: the same embedded broker, in its own JVM, with nothing of Keymeter around it. */
public final class BrokerOnly {

    private BrokerOnly() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(Path.of(args[0]), Integer.parseInt(args[1])).start();
        Runtime.getRuntime().addShutdownHook(new Thread(broker::stop));
        System.out.println("BROKER-READY");
        Thread.currentThread().join();
    }
}
