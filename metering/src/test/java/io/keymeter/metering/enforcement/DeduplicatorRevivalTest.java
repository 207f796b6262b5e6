package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.KeyFixtures;
import io.keymeter.metering.KeyFixtures.TestKey;
import io.keymeter.metering.MeteringSerdes;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.InternalFixedKeyRecordFactory;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams revives a corrupted task (a commit that timed out under exactly-once) with the same processor
 * objects, initialised again on stores rolled back to their last commit, and reads its input again from the last
 * committed offset. The deduplicator must then decide as a new instance would (as after a crash).
 */
class DeduplicatorRevivalTest {

    private static final Duration WINDOW = Duration.ofSeconds(10);
    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

    @TempDir
    Path stateDir;

    private final List<String> forwarded = new ArrayList<>();

    @Test
    void aTaskRevivedAfterAnAbortedTransactionDropsAReplayedResendAsBefore() throws Exception {
        MockProcessorContext<String, ArrivedRequest> mock = MockContexts.inDir("dedupe-test", stateDir);
        mock.setCurrentSystemTimeMs(T0.toEpochMilli());
        KeyValueStore<Bytes, Long> seen = MockContexts.open(mock, Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("seen"), MeteringSerdes.BYTES, MeteringSerdes.LONG)
                .withLoggingDisabled().build());
        FixedKeyProcessorContext<String, ArrivedRequest> context = fixedKey(mock);
        AtomicInteger duplicates = new AtomicInteger();
        Deduplicator dedupe = new Deduplicator("seen", WINDOW, 10_000, new RequestBounds(Duration.ofDays(365), 1),
                duplicates::incrementAndGet);
        TestKey key = TestKey.create("acme", "cred-1", 1);

        dedupe.init(context);
        dedupe.process(record(key.request("x", KeyFixtures.BASEMAPS, 1, T0)));
        List<KeyValue<Bytes, Long>> committed = all(seen);
        // the next transaction: the resend dropped, then a later request moves request time on
        dedupe.process(record(key.request("x", KeyFixtures.BASEMAPS, 1, T0.plus(WINDOW).minusSeconds(1))));
        dedupe.process(record(key.request("y", KeyFixtures.BASEMAPS, 1, T0.plus(WINDOW).plusSeconds(10))));
        assertThat(forwarded).containsExactly("x", "y");

        // aborted: the store rolls back to its last commit, the task is revived and its input read again
        all(seen).forEach(entry -> seen.delete(entry.key));
        committed.forEach(entry -> seen.put(entry.key, entry.value));
        dedupe.close();
        dedupe.init(context);
        dedupe.process(record(key.request("x", KeyFixtures.BASEMAPS, 1, T0.plus(WINDOW).minusSeconds(1))));
        dedupe.process(record(key.request("y", KeyFixtures.BASEMAPS, 1, T0.plus(WINDOW).plusSeconds(10))));

        // before, request time stayed where the aborted transaction had taken it: the resend was a new request
        assertThat(forwarded).containsExactly("x", "y", "y");
        assertThat(duplicates).hasValue(2);
    }

    private static List<KeyValue<Bytes, Long>> all(KeyValueStore<Bytes, Long> store) {
        List<KeyValue<Bytes, Long>> entries = new ArrayList<>();
        try (KeyValueIterator<Bytes, Long> all = store.all()) {
            all.forEachRemaining(entries::add);
        }
        return entries;
    }

    private static FixedKeyRecord<String, ArrivedRequest> record(RequestLog request) {
        ArrivedRequest arrived = MeteringSerdes.ARRIVED_REQUEST.deserializer().deserialize(Topics.REQUESTS.name(),
                Topics.REQUESTS.valueSerde().serializer().serialize(Topics.REQUESTS.name(), request));
        return InternalFixedKeyRecordFactory.create(new Record<>(request.keyId(), arrived,
                request.timestamp().toEpochMilli()));
    }

    /** Kafka ships no mock of a fixed-key context: the mock's own methods, and forwards recorded here. */
    @SuppressWarnings("unchecked")
    private FixedKeyProcessorContext<String, ArrivedRequest> fixedKey(MockProcessorContext<String, ArrivedRequest> mock) {
        return (FixedKeyProcessorContext<String, ArrivedRequest>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {FixedKeyProcessorContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("forward")) {
                        forwarded.add(((FixedKeyRecord<String, ArrivedRequest>) args[0]).value().log().requestId());
                        return null;
                    }
                    try {
                        return ProcessingContext.class.getMethod(method.getName(), method.getParameterTypes())
                                .invoke(mock, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
