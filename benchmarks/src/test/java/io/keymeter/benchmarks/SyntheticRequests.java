package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Requests written straight to {@code keymeter.requests} on 10,000 keys metering does not know (each is deduped,
 * judged and rejected), with distinct ids.
 */
final class SyntheticRequests {

    private SyntheticRequests() {
    }

    /**
     * Sends {@code count} requests with ids {@code idPrefix + i}, each stamped {@code stampOf.apply(i)} (called just
     * before its send, so it may also pace the sending), through a producer with {@code producerConfig}; fails on any
     * failed send.
     */
    static void send(String bootstrap, Map<String, Object> producerConfig, long count, String idPrefix,
                     LongFunction<Instant> stampOf) {
        Map<String, Object> config = new HashMap<>(producerConfig);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        AtomicLong failed = new AtomicLong();
        try (KafkaProducer<String, RequestLog> producer = new KafkaProducer<>(config,
                Topics.REQUESTS.keySerde().serializer(), Topics.REQUESTS.valueSerde().serializer())) {
            for (long i = 0; i < count; i++) {
                String keyId = String.format("key%013d", i % 10_000); // shaped as a keyId: metering refuses others
                Instant at = stampOf.apply(i);
                RequestLog request = new RequestLog(idPrefix + i, keyId, "0".repeat(64), "basemaps", "op", 1, null, null,
                        at);
                producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, at.toEpochMilli(), keyId, request),
                        (metadata, error) -> {
                            if (error != null) {
                                failed.incrementAndGet();
                            }
                        });
            }
            producer.flush();
        }
        assertThat(failed.get()).as("failed sends").isZero();
    }
}
