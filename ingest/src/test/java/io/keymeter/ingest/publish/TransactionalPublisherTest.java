package io.keymeter.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
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
}
