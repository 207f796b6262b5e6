package io.keymeter.metering.enforcement;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;

/** Kafka's mock processor context for task 0_0, with its stores kept in a test's directory. */
final class MockContexts {

    private MockContexts() {
    }

    static <K, V> MockProcessorContext<K, V> inDir(String applicationId, Path stateDir) {
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        return new MockProcessorContext<>(config, new TaskId(0, 0), stateDir.toFile());
    }

    /** Opens the store on the context and registers it there, as a processor's {@code getStateStore} finds it. */
    static <S extends StateStore> S open(MockProcessorContext<?, ?> context, S store) {
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        return store;
    }
}
