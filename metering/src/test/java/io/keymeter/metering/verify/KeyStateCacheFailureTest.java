package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.testsupport.SharedKafka;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * The verify cache cannot read keymeter.api-keys for a while, then can again; then the broker stops answering it
 * (as from an instance cut off while others are not); then its reader meets an Error. Verify must not answer from
 * states it can no longer bring up to date.
 */
class KeyStateCacheFailureTest {

    private static final Duration MAX_STALENESS = Duration.ofSeconds(5);
    /**
     * How long before a failure the cache may last have confirmed it was at the end: it asks for the ends every
     * {@link KeyStateCache#END_CHECK_INTERVAL} and sees them reached a poll (≤ 500 ms) after the next one, with a
     * second of slack for a busy machine (CI once measured 1.92 s to "not current" with a 3 s max staleness).
     */
    private static final Duration CONFIRMED_AT_MOST_AGO = KeyStateCache.END_CHECK_INTERVAL.plusSeconds(2);

    /** While set, every poll throws, as an unreadable topic (its ACL removed) would. */
    private final AtomicBoolean failing = new AtomicBoolean();
    /** While set, the broker does not give end offsets in time. */
    private final AtomicBoolean unreachable = new AtomicBoolean();
    /** Polls left until one throws an Error the reader does not survive. */
    private final AtomicInteger untilFatal = new AtomicInteger(-1);
    private final AtomicInteger consumers = new AtomicInteger();
    /** Polls that returned. */
    private final AtomicInteger polled = new AtomicInteger();

    @Test
    @Timeout(120)
    void verifyAnswersOnlyFromACacheThatIsCurrent() throws Exception {
        KafkaConnectionDetails cluster = apiKeysTopic();
        KeyStateCache cache = new KeyStateCache(new KafkaClients(cluster, new KafkaProperties()), new VerifySettings(MAX_STALENESS, Duration.ZERO)) {
            @Override
            Consumer<String, byte[]> newConsumer(Map<String, Object> config) {
                consumers.incrementAndGet();
                return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer()) {
                    @Override
                    public ConsumerRecords<String, byte[]> poll(Duration timeout) {
                        if (untilFatal.getAndDecrement() == 0) {
                            throw new LinkageError("injected: a class the reader needs is gone");
                        }
                        if (failing.get()) {
                            throw new KafkaException("injected: not authorized to read the topic");
                        }
                        return super.poll(timeout);
                    }

                    @Override
                    public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions, Duration timeout) {
                        if (unreachable.get()) {
                            throw new TimeoutException("injected: no answer from the broker");
                        }
                        return super.endOffsets(partitions, timeout);
                    }
                };
            }
        };
        cache.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(cache::current);

            failing.set(true);
            long failedAt = System.nanoTime();
            // before: answering for as long as it failed, from states it could no longer bring up to date
            await().atMost(MAX_STALENESS.plusSeconds(5)).until(() -> !cache.current());
            // not at the first failure: a reader that fails once and recovers keeps verify answering
            assertThat(Duration.ofNanos(System.nanoTime() - failedAt)).isGreaterThanOrEqualTo(MAX_STALENESS.minus(CONFIRMED_AT_MOST_AGO));
            assertThat(cache.notCurrentBecause()).hasValueSatisfying(reason -> assertThat(reason).contains("not at the end"));
            assertThat(consumers.get()).as("a new consumer after each failure").isGreaterThan(1);

            failing.set(false);
            await().atMost(Duration.ofSeconds(30)).until(cache::current);

            int before = consumers.get();
            unreachable.set(true);
            await().atMost(MAX_STALENESS.plusSeconds(5)).until(() -> !cache.current());
            unreachable.set(false);
            await().atMost(Duration.ofSeconds(30)).until(cache::current);
            assertThat(consumers.get()).as("an unanswered end-offset request keeps the consumer").isEqualTo(before);

            assertThat(cache.aheadReading()).isTrue();
            untilFatal.set(0);
            // the reader's thread ends with the error (Awaitility would fail the test on it: it is expected here)
            await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(10)).until(() -> !cache.current());
            assertThat(cache.notCurrentBecause()).hasValueSatisfying(reason -> assertThat(reason).contains("stopped"));
            // and the reader ahead with it: it would poll for nothing until a restart
            await().atMost(Duration.ofSeconds(5)).until(() -> !cache.aheadReading());
        } finally {
            cache.stop();
        }
    }

    /**
     * A reader started again after a failure goes on from the positions it had reached. Kafka's
     * {@code seekToBeginning} takes an empty list as every assigned partition, and the list of partitions without a
     * known position is empty once every one has been read: each restart reread the whole topic, while the cache
     * still counted as current and answered from states being rebuilt from offset 0 (a key forgotten by a tombstone
     * came back as its older active state meanwhile).
     */
    @Test
    @Timeout(120)
    void aReaderStartedAgainGoesOnWhereItStopped() throws Exception {
        KafkaConnectionDetails cluster = apiKeysTopic();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            // a tombstone: a record to read that changes no key
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), "resume-" + UUID.randomUUID(), null)).get();
        }
        List<AtomicInteger> readBy = new CopyOnWriteArrayList<>();
        KeyStateCache cache = new KeyStateCache(new KafkaClients(cluster, new KafkaProperties()), new VerifySettings(MAX_STALENESS, Duration.ZERO)) {
            @Override
            Consumer<String, byte[]> newConsumer(Map<String, Object> config) {
                AtomicInteger read = new AtomicInteger();
                readBy.add(read);
                return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer()) {
                    @Override
                    public ConsumerRecords<String, byte[]> poll(Duration timeout) {
                        if (failing.get()) {
                            throw new KafkaException("injected: a broken fetch");
                        }
                        ConsumerRecords<String, byte[]> records = super.poll(timeout);
                        read.addAndGet(records.count());
                        polled.incrementAndGet();
                        return records;
                    }
                };
            }
        };
        cache.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(cache::current);
            assertThat(readBy.get(0).get()).as("the first reader reads the topic").isPositive();

            failing.set(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> readBy.size() >= 2);
            failing.set(false);
            int pollsBefore = polled.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> cache.current() && polled.get() >= pollsBefore + 3);
            assertThat(readBy.subList(1, readBy.size())).as("records read again by the readers started after it")
                    .allSatisfy(read -> assertThat(read.get()).isZero());
        } finally {
            cache.stop();
        }
    }

    /** A stopped reader's states are not answered from: before, they counted as current for max-staleness more. */
    @Test
    @Timeout(120)
    void aStoppedCacheIsNotCurrent() throws Exception {
        KafkaConnectionDetails cluster = apiKeysTopic();
        KeyStateCache cache = new KeyStateCache(new KafkaClients(cluster, new KafkaProperties()), new VerifySettings(MAX_STALENESS, Duration.ZERO));
        cache.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(cache::current);
        } finally {
            cache.stop();
        }
        assertThat(cache.notCurrentBecause()).hasValueSatisfying(reason -> assertThat(reason).contains("stopping"));
    }

    /** The shared broker, with {@code keymeter.api-keys} created if no earlier test did. */
    private static KafkaConnectionDetails apiKeysTopic() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
            if (!admin.listTopics().names().get().contains(Topics.API_KEYS.name())) {
                admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 6, (short) 1))).all().get();
            }
        }
        return () -> List.of(SharedKafka.bootstrapServers());
    }
}
