package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.web.ApiProblem;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * Verify's read-through at its edges: a start behind a transaction already open, a reader ahead that keeps failing,
 * the topic deleted and created again. Each failed before 2026-12-06's fix.
 */
class KeyStateCacheEdgesTest {

    @TempDir
    Path dir;

    /**
     * A transaction already open when the cache starts (a hanging one, or a dead producer's, for up to 15 min): the
     * invalidation behind it has been unread for longer than allowed, but the reader ahead starts only once the
     * committed reader has caught up and dates each state from when it first sees it, so for at least
     * {@code unreadAfter} after the cache turns current, verify answers the invalidated key {@code valid}.
     */
    @Test
    @Timeout(120)
    void anInvalidationLeftBehindATransactionOpenBeforeTheStartIsNotAnsweredValid() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = null;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-r1", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            ApiKeys.GeneratedKey key = ApiKeys.generate();
            int partition = KafkaTopics.partitionOf(key.keyId(), 3);
            send(plain, state(key, KeyStatus.ACTIVE));

            left.initTransactions();
            left.beginTransaction();
            left.send(new ProducerRecord<>(Topics.API_KEYS.name(), partition, "left-open", null)).get();
            send(plain, state(key, KeyStatus.INVALIDATED));
            long invalidatedAt = System.nanoTime();

            cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()),
                    new KafkaProperties()), new VerifySettings(Duration.ofSeconds(3), Duration.ZERO));
            KeyStateCache started = cache;
            Verifier verifier = new Verifier(cache, Clock.systemUTC(), new SimpleMeterRegistry());
            // the invalidation has waited unread longer than allowed before the cache even starts
            long due = cache.unreadAfter().plusMillis(200).toNanos();
            await().atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() - invalidatedAt > due);
            cache.start();
            await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(30)).until(started::current);

            assertThat(Duration.ofNanos(System.nanoTime() - invalidatedAt)).isGreaterThan(cache.unreadAfter());
            VerifyResponse answer = null;
            try {
                answer = verifier.verify(new VerifyRequest(key.apiKey(), "basemaps", null, null));
            } catch (ApiProblem expected) {
                assertThat(expected.status()).isEqualTo(503);
            }
            assertThat(answer).as("an invalidation unread for over %s ms, behind a transaction left open, answered from"
                    + " the state before it", cache.unreadAfter().toMillis()).isNull();
        } finally {
            if (cache != null) {
                cache.stop();
            }
            broker.close();
        }
    }

    /**
     * The reader ahead fails on every poll that returns records (the failing committed reader makes the cache not
     * current; the failing reader ahead changes nothing): an invalidation behind a transaction left open is answered
     * {@code valid} indefinitely, current and health UP with no detail.
     */
    @Test
    @Timeout(120)
    void aReaderAheadThatKeepsFailingDoesNotLeaveVerifyAnsweringFromStaleStates() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KafkaProperties properties = new KafkaProperties();
        properties.getConsumer().getProperties().put("interceptor.classes", FailingAheadInterceptor.class.getName());
        KeyStateCache cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()), properties),
                new VerifySettings(Duration.ofSeconds(3), Duration.ZERO));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-r2", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            ApiKeys.GeneratedKey key = ApiKeys.generate();
            int partition = KafkaTopics.partitionOf(key.keyId(), 3);
            send(plain, state(key, KeyStatus.ACTIVE));
            cache.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> cache.current() && cache.get(key.keyId()) != null
                    && cache.aheadReading());

            FailingAheadInterceptor.ERRORS.set(Integer.MAX_VALUE);
            left.initTransactions();
            left.beginTransaction();
            left.send(new ProducerRecord<>(Topics.API_KEYS.name(), partition, "left-open", null)).get();
            send(plain, state(key, KeyStatus.INVALIDATED));

            // the invalidation is never noted: the cache must stop answering once the reader ahead is that far behind
            await().atMost(Duration.ofSeconds(10)).until(() -> !cache.current());
            assertThat(cache.heldFor(key.keyId())).isEmpty();
            assertThat(cache.notCurrentBecause()).hasValueSatisfying(why -> assertThat(why)
                    .startsWith("the key-state reader ahead has not read keymeter.api-keys for "));
            assertThat(new VerifyHealthIndicator(cache).health().getStatus()).isEqualTo(Status.DOWN);
        } finally {
            FailingAheadInterceptor.ERRORS.set(0);
            cache.stop();
            broker.close();
        }
    }

    /**
     * keymeter.api-keys deleted and created again (a restore, a mistaken delete): UnreadChanges keeps, per partition,
     * the last offset the reader ahead saw and the states it noted, offsets of the old log. A state noted before the
     * delete waits for the new log to pass its old offset (its key refused meanwhile), and every state the new log
     * writes at an offset the old one had reached is taken as "seen before" and never noted.
     */
    @Test
    @Timeout(180)
    void offsetsOfATopicDeletedAndCreatedAgainAreNotComparedWithTheNewOnes() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()),
                new KafkaProperties()), new VerifySettings(Duration.ofSeconds(3), Duration.ZERO));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-r3", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> leftAgain = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-r4", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 1, (short) 1))).all().get();
            ApiKeys.GeneratedKey before = ApiKeys.generate();
            ApiKeys.GeneratedKey after = ApiKeys.generate();
            send(plain, state(before, KeyStatus.ACTIVE));
            cache.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> cache.current() && cache.aheadReading());
            for (int i = 0; i < 20; i++) {
                send(plain, state(ApiKeys.generate(), KeyStatus.ACTIVE));
            }
            left.initTransactions();
            left.beginTransaction();
            left.send(new ProducerRecord<>(Topics.API_KEYS.name(), 0, "left-open", null)).get();
            long oldOffset = send(plain, state(before, KeyStatus.INVALIDATED));
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.heldFor(before.keyId()).isPresent());

            admin.deleteTopics(List.of(Topics.API_KEYS.name())).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> !admin.listTopics().names().get()
                    .contains(Topics.API_KEYS.name()));
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 1, (short) 1))).all().get();
                return true;
            });
            long first = send(plain, state(after, KeyStatus.ACTIVE));
            assertThat(first).isLessThan(oldOffset);
            await().atMost(Duration.ofSeconds(60)).until(() -> cache.current() && cache.get(after.keyId()) != null);
            // the state noted in the old log (its transaction deleted with it) must not hold its key any longer
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.heldFor(before.keyId()).isEmpty());

            // a state behind a transaction left open in the new log, at an offset the old one had passed
            leftAgain.initTransactions();
            leftAgain.beginTransaction();
            leftAgain.send(new ProducerRecord<>(Topics.API_KEYS.name(), 0, "left-open-again", null)).get();
            assertThat(send(plain, state(after, KeyStatus.INVALIDATED))).isLessThan(oldOffset);
            await().atMost(cache.unreadAfter().plusSeconds(10)).until(() -> cache.heldFor(after.keyId()).isPresent());
        } finally {
            cache.stop();
            broker.close();
        }
    }

    private static ApiKeyState state(ApiKeys.GeneratedKey key, KeyStatus status) {
        return new ApiKeyState(key.keyId(), "cred-review", "acme", 1, status, Instant.now().plusSeconds(3600),
                key.secretHash(), List.of(ServiceCatalog.privilegeFor("basemaps").orElseThrow()), List.of(), List.of(),
                Instant.now());
    }

    private static long send(KafkaProducer<String, byte[]> producer, ApiKeyState state) throws Exception {
        return KeyStateCacheHeldTest.send(producer, state.keyId(), state);
    }

    private static KafkaProducer<String, byte[]> producer(EmbeddedKafkaBroker broker, Map<String, Object> more) {
        return KeyStateCacheHeldTest.producer(broker, more);
    }
}
