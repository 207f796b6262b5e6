package io.keymeter.benchmarks;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Active API key states written straight to {@code keymeter.api-keys}, shaped like the credential store's (two keys
 * per credential, twenty per account, three privileges), for benchmarks that need many keys quickly: generating 10k
 * keys over HTTP would take minutes, 1M hours.
 */
final class KeyStates {

    static final List<String> PRIVILEGES =
            List.of("premium:user:basemaps", "premium:user:geocode:temporary", "premium:user:networkanalysis:routing");

    private KeyStates() {
    }

    /**
     * Publishes {@code count} new keys numbered from {@code first} (the number decides credential and account) and
     * hands each generated key to {@code kept}; returns once every record is acknowledged by the broker.
     */
    static void publish(String bootstrap, int first, int count, Consumer<ApiKeys.GeneratedKey> kept) {
        Instant created = Instant.now().minus(Duration.ofDays(2));
        Instant expires = Instant.now().plus(Duration.ofDays(30));
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<String, ApiKeyState> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 50,
                ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                // a loaded machine must not expire a batch: that would be a key missing from the measurement
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 120_000),
                Topics.API_KEYS.keySerde().serializer(), Topics.API_KEYS.valueSerde().serializer())) {
            for (int i = first; i < first + count; i++) {
                ApiKeys.GeneratedKey key = ApiKeys.generate();
                ApiKeyState state = new ApiKeyState(key.keyId(), "cred-" + (i / 2), "account-" + (i / 20), 1 + i % 2,
                        KeyStatus.ACTIVE, expires, key.secretHash(), PRIVILEGES, List.of(), List.of(), created);
                producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, created.toEpochMilli(), key.keyId(),
                        state), (metadata, error) -> {
                            if (error != null) {
                                failure.compareAndSet(null, error);
                            }
                        });
                kept.accept(key);
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a key state was not written", failure.get());
        }
    }
}
