package io.keymeter.metering.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.testsupport.SharedKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/** The verify cache cannot read keymeter.api-keys for a while, then can again; then its reader meets an Error. */
class KeyStateCacheFailureTest {

    /** While set, every poll throws, as an unreadable topic (its ACL removed) would. */
    private final AtomicBoolean failing = new AtomicBoolean();
    /** Polls left until one throws an Error the reader does not survive. */
    private final AtomicInteger untilFatal = new AtomicInteger(-1);
    private final AtomicInteger consumers = new AtomicInteger();

    @Test
    @Timeout(90)
    void verifyStopsAnsweringWhileTheCacheCannotReadAndAgainOnceItCan() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
            if (!admin.listTopics().names().get().contains(Topics.API_KEYS.name())) {
                admin.createTopics(List.of(new NewTopic(Topics.API_KEYS.name(), 6, (short) 1))).all().get();
            }
        }
        KafkaConnectionDetails cluster = () -> List.of(SharedKafka.bootstrapServers());
        KeyStateCache cache = new KeyStateCache(new KafkaClients(cluster, new KafkaProperties())) {
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
                };
            }
        };
        cache.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(cache::current);

            failing.set(true);
            long failedAt = System.nanoTime();
            // before: still "ready" after any time, answering from states it could no longer bring up to date
            await().atMost(KeyStateCache.STALE_AFTER.plusSeconds(5)).until(() -> !cache.current());
            assertThat(Duration.ofNanos(System.nanoTime() - failedAt)).isGreaterThanOrEqualTo(KeyStateCache.STALE_AFTER);
            assertThat(consumers.get()).as("a new consumer each second").isGreaterThan(2);

            failing.set(false);
            await().atMost(Duration.ofSeconds(30)).until(cache::current);

            untilFatal.set(0);
            // the reader's thread ends with the error (Awaitility would fail the test on it: it is expected here)
            await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(10)).until(() -> !cache.current());
            assertThat(cache.caughtUp()).as("loaded once, but no longer read").isTrue();
        } finally {
            cache.stop();
        }
    }
}
