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
import org.apache.kafka.clients.admin.NewPartitions;
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
 * On a broker of its own (a transaction is left open on keymeter.api-keys): a transaction open on a partition holds
 * a read_committed reader at its first record while a key's removal is committed behind it; once held so for the
 * time allowed, verify may not answer for that partition's keys, naming it, while the cache stays current and the
 * other partitions are read and answered; once the transaction ends, the removal is read and nothing is held.
 */
class KeyStateCacheHeldTest {

    private static final Duration HELD_AFTER = Duration.ofSeconds(8);

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aTransactionLeftOpenOnAKeyStatePartitionHoldsItsKeysAnswersUntilItEnds() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = null;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-1", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            String heldKey = keyOn(2);
            String otherKey = keyOn(0);
            send(plain, heldKey, active(heldKey));
            cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()),
                    new KafkaProperties()), new VerifySettings(Duration.ofSeconds(3)), HELD_AFTER);
            cache.start();
            KeyStateCache started = cache;
            await().atMost(Duration.ofSeconds(30)).until(() -> started.current() && started.get(heldKey) != null);

            left.initTransactions();
            left.beginTransaction();
            long start = left.send(new ProducerRecord<>(Topics.API_KEYS.name(), 2, "left-open", null)).get().offset();
            // the key's removal, committed behind it: unread while the transaction is open
            send(plain, heldKey, null);

            await().during(HELD_AFTER.minusSeconds(3)).atMost(HELD_AFTER).until(() -> started.heldFor(heldKey)
                    .isEmpty());
            await().atMost(HELD_AFTER.plus(KeyStateCache.HELD_CHECK_INTERVAL).plusSeconds(10))
                    .until(() -> started.heldFor(heldKey).isPresent());
            String why = "held on keymeter.api-keys-2 at offset " + start + " for over 8 s by a transaction left open "
                    + "there: key states written after it, invalidations included, cannot be read until it ends "
                    + "(README: \"A partition a topology reads no further\")";
            assertThat(started.heldFor(heldKey)).hasValue(why);
            assertThat(started.get(heldKey)).as("the removal behind it unread").isNotNull();
            assertThat(started.heldFor(otherKey)).as("another partition's key").isEmpty();
            assertThat(started.current()).as("the others are answered").isTrue();
            assertThat(started.heldPartitions()).containsExactly(why);

            // the other partitions are still read as they come
            send(plain, otherKey, active(otherKey));
            await().atMost(Duration.ofSeconds(10)).until(() -> started.get(otherKey) != null);

            // partitions added: the key now hashes elsewhere, but its state waits where it was written
            admin.createPartitions(Map.of(Topics.API_KEYS.name(), NewPartitions.increaseTo(6))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> started.partitionCounts().contains(6));
            assertThat(KafkaTopics.partitionOf(heldKey, 6)).isNotEqualTo(2);
            assertThat(started.heldFor(heldKey)).hasValue(why);

            left.commitTransaction();
            await().atMost(KeyStateCache.HELD_CHECK_INTERVAL.plusSeconds(10)).until(() -> started.heldFor(heldKey)
                    .isEmpty() && started.get(heldKey) == null);
            assertThat(started.heldPartitions()).isEmpty();
        } finally {
            if (cache != null) {
                cache.stop();
            }
            broker.close();
        }
    }

    /**
     * A keyId whose states go to {@code partition} of three, as the credential store's producer sends them, and to
     * another of six.
     */
    private static String keyOn(int partition) {
        for (int i = 0; ; i++) {
            if (KafkaTopics.partitionOf("held-key-" + i, 3) == partition
                    && KafkaTopics.partitionOf("held-key-" + i, 6) != partition) {
                return "held-key-" + i;
            }
        }
    }

    private static ApiKeyState active(String keyId) {
        return new ApiKeyState(keyId, "cred-held", "acme", 1, KeyStatus.ACTIVE, Instant.now().plusSeconds(3600),
                "hash", List.of("premium:basemaps"), List.of(), List.of(), Instant.now());
    }

    /** Sends {@code state} (null: the key's removal) keyed by its keyId, to the partition its key hashes to. */
    private static void send(KafkaProducer<String, byte[]> producer, String keyId, ApiKeyState state)
            throws Exception {
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), keyId, state == null ? null
                : Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(), state))).get();
    }

    private static KafkaProducer<String, byte[]> producer(EmbeddedKafkaBroker broker, Map<String, Object> more) {
        Map<String, Object> config = new java.util.HashMap<>(more);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }
}
