package io.keymeter.platform.testing;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/** A real embedded broker of one test class's own (its topics change under it), with an admin client on it. */
public final class OwnBroker implements AutoCloseable {

    private final EmbeddedKafkaBroker broker;
    private final Admin admin;

    private OwnBroker(EmbeddedKafkaBroker broker) {
        this.broker = broker;
        this.admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    /** Starts a broker logging under {@code dir} and creates {@code topics} on it. */
    public static OwnBroker start(Path dir, List<NewTopic> topics) throws ExecutionException, InterruptedException {
        OwnBroker started = new OwnBroker(new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start());
        started.admin.createTopics(topics).all().get();
        return started;
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public Admin admin() {
        return admin;
    }

    @Override
    public void close() {
        admin.close();
        broker.close();
    }
}
