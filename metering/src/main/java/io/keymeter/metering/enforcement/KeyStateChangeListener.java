package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Hears every change of the key-state table (Kafka Streams forwards each put it stored, tombstones included, in
 * the task and at the moment it is stored) and makes {@link LatestKeyStates} forget that key.
 */
public final class KeyStateChangeListener implements Processor<String, ApiKeyState, Void, Void> {

    private final String cacheName;
    private LatestKeyStates cache;

    public KeyStateChangeListener(String cacheName) {
        this.cacheName = cacheName;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        cache = context.getStateStore(cacheName);
    }

    @Override
    public void process(Record<String, ApiKeyState> record) {
        cache.forget(record.key());
    }
}
