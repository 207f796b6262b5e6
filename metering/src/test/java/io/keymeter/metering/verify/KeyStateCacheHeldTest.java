package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.kafka.KafkaClients;
import java.nio.file.Path;
import java.time.Duration;
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
 * On a broker of its own (a transaction is left open on keymeter.api-keys): a transaction open on a partition holds
 * a read_committed reader at its first record while records behind it are committed, and the cache stops being
 * current, naming the partition, once it has been held so for the time allowed; an ordinary transaction does not;
 * once it ends, the states behind it are read and the cache is current again.
 */
class KeyStateCacheHeldTest {

    private static final Duration HELD_AFTER = Duration.ofSeconds(8);

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aTransactionLeftOpenOnAKeyStatePartitionMakesTheCacheNotCurrentUntilItEnds() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = null;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-1", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()),
                    new KafkaProperties()), new VerifySettings(Duration.ofSeconds(3)), HELD_AFTER);
            cache.start();
            KeyStateCache started = cache;
            await().atMost(Duration.ofSeconds(30)).until(started::current);

            left.initTransactions();
            left.beginTransaction();
            long start = left.send(new ProducerRecord<>(Topics.API_KEYS.name(), 2, "left-open", null)).get().offset();
            // a key's removal committed behind it: the cache cannot read it while the transaction is open
            plain.send(new ProducerRecord<>(Topics.API_KEYS.name(), 2, "behind", null)).get();

            await().during(HELD_AFTER.minusSeconds(3)).atMost(HELD_AFTER).until(started::current);
            await().atMost(HELD_AFTER.plus(KeyStateCache.HELD_CHECK_INTERVAL).plusSeconds(10))
                    .until(() -> !started.current());
            assertThat(started.notCurrentBecause()).hasValue("held on keymeter.api-keys-2 at offset " + start
                    + " for over 8 s by a transaction left open there: key states written after it, invalidations "
                    + "included, cannot be read until it ends (README: \"A partition a topology reads no further\")");

            left.commitTransaction();
            await().atMost(KeyStateCache.HELD_CHECK_INTERVAL.plusSeconds(10)).until(started::current);
        } finally {
            if (cache != null) {
                cache.stop();
            }
            broker.close();
        }
    }

    private static KafkaProducer<String, byte[]> producer(EmbeddedKafkaBroker broker, Map<String, Object> more) {
        Map<String, Object> config = new java.util.HashMap<>(more);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }
}
