package io.keymeter.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.RequestLog;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class TransactionalPublisherTest {

    /**
     * A producer that throws something other than a KafkaException while starting: the slot used to stay taken, so
     * with one producer every later batch waited the timeout and was answered "every producer is busy".
     */
    @Test
    void aSlotWhoseProducerFailsToStartGoesBackToThePool() {
        AtomicInteger made = new AtomicInteger();
        PublishSettings oneProducer = new PublishSettings(1, Duration.ofMillis(300), 0, 16 * 1024, "none");
        try (TransactionalPublisher publisher = new TransactionalPublisher(Map.of(), oneProducer, slot -> {
            MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                    new ByteArraySerializer());
            if (made.getAndIncrement() == 0) {
                producer.initTransactionException = new IllegalStateException("injected: invalid transition");
            }
            return producer;
        })) {
            assertThatThrownBy(publisher::begin).isInstanceOf(PublishUnavailableException.class)
                    .hasRootCauseInstanceOf(IllegalStateException.class);

            try (TransactionalPublisher.Batch batch = publisher.begin()) {
                assertThat(made).as("a new producer for the slot").hasValue(2);
                batch.commit();
            }
        }
    }

    /** An ended batch's watch leaves the watchdog's queue: kept, each held its batch and producer for 2 × the timeout. */
    @Test
    void anEndedBatchLeavesNoWatchBehind() {
        try (TransactionalPublisher publisher = new TransactionalPublisher(Map.of(), settings(2), slot -> mockProducer())) {
            for (int i = 0; i < 50; i++) {
                try (TransactionalPublisher.Batch batch = publisher.begin()) {
                    if (i % 2 == 0) {
                        batch.commit();
                    }
                }
            }
            try (TransactionalPublisher.Batch open = publisher.begin()) {
                assertThat(publisher.watchesPending()).as("only the open batch's").isEqualTo(1);
            }
            assertThat(publisher.watchesPending()).isZero();
        }
    }

    /**
     * A batch that ends after the pool closed (a request still running when the drain gave up) closes its producer
     * instead of handing it back to a pool nobody closes again; a batch begun then is refused without a new producer.
     */
    @Test
    void afterCloseABatchEndingClosesItsProducerAndNoneBegins() {
        List<MockProducer<String, byte[]>> made = new ArrayList<>();
        TransactionalPublisher publisher = new TransactionalPublisher(Map.of(), settings(2), slot -> {
            MockProducer<String, byte[]> producer = mockProducer();
            made.add(producer);
            return producer;
        });
        TransactionalPublisher.Batch running = publisher.begin();
        publisher.close();
        running.commit();

        assertThat(made).singleElement().satisfies(p -> assertThat(p.closed()).isTrue());
        assertThatThrownBy(publisher::begin).isInstanceOf(PublishUnavailableException.class).hasMessageContaining("stopping");
        assertThat(made).hasSize(1);
    }

    /**
     * The watchdog fails a batch that has spent twice the publish timeout inside Kafka calls, not one that spends it
     * parsing: timed from the batch's start, a large body parsed on a loaded machine was closed under it, a 503 on
     * every retry. Here a commit that never returns (the client's own bounds did not always hold with the broker
     * gone).
     */
    @Test
    void theWatchdogCountsTimeInKafkaCallsNotTimeSpentParsing() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        AtomicBoolean commitHangs = new AtomicBoolean();
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer()) {
            @Override
            public void commitTransaction() {
                if (!commitHangs.get()) {
                    super.commitTransaction();
                    return;
                }
                awaitQuietly(closed, Duration.ofSeconds(30)); // stuck until the watchdog closes the producer
                throw new IllegalStateException("closed while committing");
            }

            @Override
            public void close(Duration timeout) {
                super.close(timeout);
                closed.countDown();
            }
        };
        PublishSettings quick = new PublishSettings(1, Duration.ofMillis(250), 0, 16 * 1024, "none"); // watch: 500 ms
        RequestLog request = new RequestLog("r", "k", "h", "basemaps", "tile", 1, null, null, Instant.now());
        try (TransactionalPublisher publisher = new TransactionalPublisher(Map.of(), quick, slot -> producer)) {
            try (TransactionalPublisher.Batch warm = publisher.begin()) { // classes loaded: no first send slow for that
                warm.send(request);
                warm.commit();
            }
            try (TransactionalPublisher.Batch slow = publisher.begin()) {
                long until = System.nanoTime() + Duration.ofMillis(1500).toNanos();
                while (System.nanoTime() < until) {
                    slow.send(request);
                    Thread.sleep(20); // the parser's work between two lines, on a loaded machine
                }
                slow.commit();
            }
            assertThat(producer.closed()).as("closed under a batch that was still sending").isFalse();
            assertThat(producer.history()).hasSizeGreaterThan(10);

            commitHangs.set(true);
            TransactionalPublisher.Batch stuck = publisher.begin();
            stuck.send(request);
            long committing = System.nanoTime();
            assertThatThrownBy(stuck::commit).isInstanceOf(PublishUnavailableException.class);
            // the commit hangs 30 s unless the watchdog fails it; room for a loaded machine below that
            assertThat(Duration.ofNanos(System.nanoTime() - committing)).isLessThan(Duration.ofSeconds(25));
            assertThat(producer.closed()).isTrue();
        }
    }

    /**
     * Sends that each block 600 ms and return, as they do with the broker gone ({@code max.block.ms} waiting for
     * metadata, then a failed future): the second passes the 1 s watch, and the batch is failed. (With 150 ms sends
     * and a 200 ms watch, a send returning 50 ms late on a busy machine failed the batch during the first.)
     */
    @Test
    void sendsThatEachBlockAddUp() {
        CountDownLatch never = new CountDownLatch(1);
        AtomicBoolean brokerGone = new AtomicBoolean();
        AtomicInteger sends = new AtomicInteger();
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer()) {
            @Override
            public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                    org.apache.kafka.clients.producer.ProducerRecord<String, byte[]> record) {
                if (brokerGone.get()) {
                    sends.incrementAndGet();
                    awaitQuietly(never, Duration.ofMillis(600));
                }
                return super.send(record);
            }
        };
        PublishSettings quick = new PublishSettings(1, Duration.ofMillis(500), 0, 16 * 1024, "none");
        RequestLog request = new RequestLog("r", "k", "h", "basemaps", "tile", 1, null, null, Instant.now());
        try (TransactionalPublisher publisher = new TransactionalPublisher(Map.of(), quick, slot -> producer)) {
            try (TransactionalPublisher.Batch warm = publisher.begin()) { // classes loaded: no first send slow for that
                warm.send(request);
                warm.commit();
            }
            brokerGone.set(true);
            TransactionalPublisher.Batch batch = publisher.begin();
            // before: each send counted as progress, and 50 of them kept a batch open with the broker gone for 50 x
            // max.block.ms
            assertThatThrownBy(() -> {
                for (int i = 0; i < 50; i++) {
                    batch.send(request);
                }
            }).isInstanceOf(PublishUnavailableException.class);
            // a few, however late the watchdog's thread runs; not all 50
            assertThat(sends.get()).as("sends made before the batch was failed").isBetween(2, 20);
            batch.close();
        }
    }

    private static void awaitQuietly(CountDownLatch latch, Duration timeout) {
        try {
            latch.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static PublishSettings settings(int producers) {
        return new PublishSettings(producers, Duration.ofSeconds(5), 0, 16 * 1024, "none");
    }

    private static MockProducer<String, byte[]> mockProducer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }
}
