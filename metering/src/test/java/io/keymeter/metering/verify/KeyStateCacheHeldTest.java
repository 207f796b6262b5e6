package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * On a broker of its own (a transaction is left open on keymeter.api-keys): a live transaction open no longer than the
 * credential store's commit interval refuses nothing; one open longer holds a read_committed reader at its first
 * record while a key's removal is committed behind it, and half a second past that interval verify may not answer
 * for that key, naming where its state waits, while another key of the same partition, whose state
 * is read, and the other partitions' keys are answered and the cache stays current; once held so for the time
 * given, health and the log name the partition; once the transaction ends, the removal is read and nothing waits.
 */
class KeyStateCacheHeldTest {

    private static final Duration HELD_AFTER = Duration.ofSeconds(5);
    private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(6);

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aKeyWhoseStateWaitsBehindATransactionLeftOpenIsNotAnsweredForUntilItEnds() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = null;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-1", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> live = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-live-1"));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            String heldKey = keyOn(2, 0);
            String quietKey = keyOn(2, 1);
            String otherKey = keyOn(0, 0);
            send(plain, heldKey, active(heldKey));
            send(plain, quietKey, active(quietKey));
            cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()),
                    new KafkaProperties()), new VerifySettings(Duration.ofSeconds(10), COMMIT_INTERVAL), HELD_AFTER);
            cache.start();
            KeyStateCache started = cache;
            await().atMost(Duration.ofSeconds(30)).until(() -> started.current() && started.get(heldKey) != null
                    && started.get(quietKey) != null);

            assertThat(cache.unreadAfter()).isEqualTo(Duration.ofMillis(6500));

            // a transaction the credential store commits within its interval: the key answered throughout
            live.initTransactions();
            live.beginTransaction();
            send(live, quietKey, active(quietKey));
            await().during(Duration.ofMillis(1200)).atMost(Duration.ofMillis(5000)).until(() -> started.heldFor(quietKey)
                    .isEmpty());
            live.commitTransaction();
            await().atMost(Duration.ofSeconds(5)).until(() -> started.unreadCount() == 0);

            left.initTransactions();
            left.beginTransaction();
            long start = left.send(new ProducerRecord<>(Topics.API_KEYS.name(), 2, "left-open", null)).get().offset();
            // the key's removal, committed behind it: unread while the transaction is open
            long sentAt = System.nanoTime();
            long removal = send(plain, heldKey, null);

            await().atMost(Duration.ofSeconds(15)).until(() -> started.heldFor(heldKey).isPresent());
            assertThat(Duration.ofNanos(System.nanoTime() - sentAt)).as("a commit interval and a moment allowed")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(6500));
            assertThat(started.heldFor(heldKey)).hasValue("a newer state of this key, written to "
                    + "keymeter.api-keys-2 at offset " + removal + ", has stayed unread for over 6500 ms behind offset "
                    + start + ": a transaction left open there holds it back (README: \"A partition a topology reads"
                    + " no further\")");
            assertThat(started.get(heldKey)).as("the removal behind it unread").isNotNull();
            assertThat(started.heldFor("left-open")).as("the open transaction's own state").isPresent();
            assertThat(started.heldFor(quietKey)).as("the same partition's key with nothing unread").isEmpty();
            assertThat(started.heldFor(otherKey)).as("another partition's key").isEmpty();
            assertThat(started.current()).as("the others are answered").isTrue();

            String why = "held on keymeter.api-keys-2 at offset " + start + " for over 5 s by a transaction left open "
                    + "there: key states written after it, invalidations included, cannot be read until it ends "
                    + "(README: \"A partition a topology reads no further\")";
            await().atMost(HELD_AFTER.plusSeconds(10)).until(() -> started.heldPartitions().equals(List.of(why)));

            // the other partitions are still read as they come
            send(plain, otherKey, active(otherKey));
            await().atMost(Duration.ofSeconds(10)).until(() -> started.get(otherKey) != null);
            assertThat(started.heldFor(otherKey)).isEmpty();

            left.commitTransaction();
            await().atMost(Duration.ofSeconds(10)).until(() -> started.heldFor(heldKey).isEmpty()
                    && started.get(heldKey) == null && started.heldPartitions().isEmpty());
            assertThat(started.heldFor("left-open")).isEmpty();
            assertThat(started.unreadCount()).isZero();
        } finally {
            if (cache != null) {
                cache.stop();
            }
            broker.close();
        }
    }

    @Test
    @Timeout(120)
    void anErrorInTheReaderAheadStartsItOverAndVerifyGoesOnAnswering() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KafkaProperties properties = FailingAheadInterceptor.installed();
        KeyStateCache cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()), properties),
                new VerifySettings(Duration.ofSeconds(10), Duration.ZERO), HELD_AFTER); // the default staleness
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-2", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            String key = keyOn(1, 0);
            send(plain, key, active(key));
            cache.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> cache.current() && cache.get(key) != null);

            FailingAheadInterceptor.ERRORS.set(1);
            send(plain, keyOn(1, 1), active(keyOn(1, 1))); // what the reader ahead polls next fails it
            await().atMost(Duration.ofSeconds(10)).until(() -> FailingAheadInterceptor.ERRORS.get() == 0);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(cache::current);

            // started over: a state behind a transaction left open is seen again
            left.initTransactions();
            left.beginTransaction();
            left.send(new ProducerRecord<>(Topics.API_KEYS.name(), 1, "left-open", null)).get();
            send(plain, key, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.heldFor(key).isPresent());
            assertThat(cache.current()).isTrue();
            left.abortTransaction();
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.heldFor(key).isEmpty() && cache.get(key) == null);
        } finally {
            FailingAheadInterceptor.ERRORS.set(0);
            cache.stop();
            broker.close();
        }
    }

    /** The {@code n}th keyId whose states go to {@code partition} of three, as the credential store's producer sends them. */
    private static String keyOn(int partition, int n) {
        for (int i = 0, found = 0; ; i++) {
            if (KafkaTopics.partitionOf("held-key-" + i, 3) == partition && found++ == n) {
                return "held-key-" + i;
            }
        }
    }

    private static ApiKeyState active(String keyId) {
        return new ApiKeyState(keyId, "cred-held", "acme", 1, KeyStatus.ACTIVE, Instant.now().plusSeconds(3600),
                "hash", List.of("premium:basemaps"), List.of(), List.of(), Instant.now());
    }

    /**
     * Sends {@code state} (null: the key's removal) keyed by its keyId, to the partition its key hashes to; returns
     * its offset.
     */
    static long send(KafkaProducer<String, byte[]> producer, String keyId, ApiKeyState state)
            throws Exception {
        return producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), keyId, state == null ? null
                : Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(), state))).get().offset();
    }

    static KafkaProducer<String, byte[]> producer(EmbeddedKafkaBroker broker, Map<String, Object> more) {
        Map<String, Object> config = new java.util.HashMap<>(more);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }
}
