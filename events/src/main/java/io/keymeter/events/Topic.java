package io.keymeter.events;

import org.apache.kafka.common.serialization.Serde;

/**
 * A topic with its name, serdes and cleanup policy: the only way code names a topic.
 *
 * @param compacted {@code cleanup.policy=compact} when true, otherwise {@code delete}
 * @param keepForever retention.ms=-1 for a delete topic that is the system's record (the event log)
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, boolean compacted, boolean keepForever) {

    public String cleanupPolicy() {
        return compacted ? "compact" : "delete";
    }

    @Override
    public String toString() {
        return name;
    }
}
