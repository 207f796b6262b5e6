package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
import java.nio.charset.StandardCharsets;
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
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * Verify's read-through at its edges: a start behind a transaction already open, a reader ahead that keeps failing,
 * the topic deleted and created again. Each failed before 2026-12-06's fixes.
 */
class KeyStateCacheEdgesTest {

    @TempDir
    Path dir;

    /**
     * A transaction already open when the cache starts (a hanging one, or a dead producer's, for up to 15 min): the
     * invalidation behind it has been unread for longer than allowed, so it is refused as soon as verify answers
     * (it was answered {@code valid} for {@code unreadAfter}: each state dated from when the reader ahead saw it).
     */
    @Test
    @Timeout(120)
    void anInvalidationLeftBehindATransactionOpenBeforeTheStartIsNotAnsweredValid() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = cacheOn(broker, Duration.ofSeconds(3));
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

            Verifier verifier = new Verifier(cache, Clock.systemUTC(), new SimpleMeterRegistry());
            // the invalidation has waited unread longer than allowed before the cache even starts
            long due = cache.unreadAfter().plusMillis(200).toNanos();
            await().atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() - invalidatedAt > due);
            cache.start();
            await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(30)).until(cache::current);

            assertThat(Duration.ofNanos(System.nanoTime() - invalidatedAt)).isGreaterThan(cache.unreadAfter());
            assertThatThrownBy(() -> verifier.verify(new VerifyRequest(key.apiKey(), "basemaps", null, null)))
                    .as("an invalidation unread for over %s ms, behind a transaction left open, answered from the"
                            + " state before it", cache.unreadAfter().toMillis())
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.status()).isEqualTo(503));
            assertThat(cache.heldFor(key.keyId())).as("held, not loading").isPresent();
        } finally {
            cache.stop();
            broker.close();
        }
    }

    /**
     * The reader ahead fails on every poll that returns records, so it never sees the invalidation behind a
     * transaction left open: the cache stops being current (it answered {@code valid}, health UP, for good), and once
     * the reader ahead reads again, the invalidation it missed has waited too long already.
     */
    @Test
    @Timeout(120)
    void aReaderAheadThatKeepsFailingDoesNotLeaveVerifyAnsweringFromStaleStates() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KafkaProperties properties = FailingAheadInterceptor.installed();
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

            // back: the invalidation it could not read has waited longer than allowed, refused as soon as answers are
            FailingAheadInterceptor.ERRORS.set(0);
            await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(cache::current);
            assertThat(cache.heldFor(key.keyId())).isPresent();
        } finally {
            FailingAheadInterceptor.ERRORS.set(0);
            cache.stop();
            broker.close();
        }
    }

    /**
     * keymeter.api-keys deleted and created again (a restore, a mistaken delete): what verify read may no longer be
     * in Kafka (an invalidation waiting behind a transaction in the old log is gone with it), and the offsets noted
     * in the old log mean nothing in the new one. Verify stops answering before it applies anything of the new log,
     * until a restart reads that whole. Before, the old log's keys were answered and the states noted there held.
     */
    @Test
    @Timeout(180)
    void aTopicDeletedAndCreatedAgainStopsVerifyUntilARestartReadsTheNewLog() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KafkaClients clients = new KafkaClients(() -> List.of(broker.bootstrapServers()), new KafkaProperties());
        VerifySettings settings = new VerifySettings(Duration.ofSeconds(60), Duration.ZERO);
        KeyStateCache cache = new KeyStateCache(clients, settings);
        KeyStateCache restarted = new KeyStateCache(clients, settings);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> left = producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                     "keymeter-credential-store-left-r3", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 1, (short) 1))).all().get();
            ApiKeys.GeneratedKey before = ApiKeys.generate();
            ApiKeys.GeneratedKey after = ApiKeys.generate();
            send(plain, state(before, KeyStatus.ACTIVE));
            for (int i = 0; i < 20; i++) {
                send(plain, state(ApiKeys.generate(), KeyStatus.ACTIVE));
            }
            cache.start();
            await().atMost(Duration.ofSeconds(30)).until(cache::current);
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
            assertThat(send(plain, state(after, KeyStatus.ACTIVE))).isLessThan(oldOffset);

            await().atMost(Duration.ofSeconds(30)).until(() -> !cache.current());
            assertThat(cache.notCurrentBecause()).hasValueSatisfying(why -> assertThat(why).startsWith(
                    "the log of keymeter.api-keys-0 went back below where verify had read"));
            assertThat(cache.get(after.keyId())).as("nothing of the new log applied").isNull();
            await().atMost(Duration.ofSeconds(10)).until(() -> !cache.reading() && !cache.aheadReading());
            Verifier verifier = new Verifier(cache, Clock.systemUTC(), new SimpleMeterRegistry());
            assertThatThrownBy(() -> verifier.verify(new VerifyRequest(before.apiKey(), "basemaps", null, null)))
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.status()).isEqualTo(503));

            cache.stop();
            restarted.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> restarted.current()
                    && restarted.get(after.keyId()) != null);
            assertThat(restarted.get(before.keyId())).as("not in the new log").isNull();
            assertThat(restarted.heldFor(before.keyId())).isEmpty();
        } finally {
            cache.stop();
            restarted.stop();
            broker.close();
        }
    }

    /**
     * Key states verify cannot read (metering dead-letters the same records): skipped, the key's previous state kept,
     * counted in {@code keymeter_verify_unreadable_key_states_total}, and logged a line at most per 10 s. Each was a
     * line of its own and counted nowhere: a writer gone wrong filled the log at every start.
     */
    @Test
    @Timeout(120)
    void unreadableKeyStatesAreSkippedCountedAndLoggedOncePerInterval() throws Exception {
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        KeyStateCache cache = cacheOn(broker, Duration.ofSeconds(30));
        Logger cacheLog = (Logger) LoggerFactory.getLogger(KeyStateCache.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        cacheLog.addAppender(logged);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
             KafkaProducer<String, byte[]> plain = producer(broker, Map.of())) {
            admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 3, (short) 1))).all().get();
            ApiKeys.GeneratedKey key = ApiKeys.generate();
            send(plain, state(key, KeyStatus.ACTIVE));
            for (int i = 0; i < 50; i++) {
                plain.send(new ProducerRecord<>(Topics.API_KEYS.name(), key.keyId(),
                        ("{\"keyId\": damaged " + i + "}").getBytes(StandardCharsets.UTF_8))).get();
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Verifier verifier = new Verifier(cache, Clock.systemUTC(), registry);
            cache.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> cache.current() && cache.unreadableStates() == 50);

            assertThat(verifier.verify(new VerifyRequest(key.apiKey(), "basemaps", null, null)).valid()).isTrue();
            assertThat(registry.get(Verifier.UNREADABLE_METRIC).functionCounter().count()).isEqualTo(50.0);
            assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                    .filteredOn(line -> line.startsWith("Skipping unreadable key state")).singleElement().asString()
                    .startsWith("Skipping unreadable key state at " + Topics.API_KEYS.name() + "-"
                            + KafkaTopics.partitionOf(key.keyId(), 3) + "@1 (the key's previous state stays");
            // and the catch-up line says how many in all, the ones the sampled log left out too
            assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                    .filteredOn(line -> line.startsWith("Verify cache caught up with")).singleElement().asString()
                    .endsWith(": 1 keys, 50 unreadable key state(s) skipped");
        } finally {
            cacheLog.detachAppender(logged);
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

    /** A cache reading {@code broker}'s key states, answering 503 once it has not been current for {@code maxStaleness}. */
    private static KeyStateCache cacheOn(EmbeddedKafkaBroker broker, Duration maxStaleness) {
        return new KeyStateCache(new KafkaClients(() -> List.of(broker.bootstrapServers()), new KafkaProperties()),
                new VerifySettings(maxStaleness, Duration.ZERO));
    }

    private static KafkaProducer<String, byte[]> producer(EmbeddedKafkaBroker broker, Map<String, Object> more) {
        return KeyStateCacheHeldTest.producer(broker, more);
    }
}
