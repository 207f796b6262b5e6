package io.keymeter.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.Topic;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class TopicReaderTest {

    @TempDir
    Path dir;

    /**
     * A read at once stops at the first open transaction; a settled read waits for it to end. Ingest's 202 comes when
     * its commit is logged, before the markers: a test reading at once missed a whole batch (once in CI).
     */
    @Test
    void aSettledReadWaitsForTheTransactionsOpenWhenItWasCalled() throws Exception {
        Topic<String, String> topic = new Topic<>("reader-settled", Serdes.String(), Serdes.String(), false, false);
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "reader-settled"),
                        new StringSerializer(), new StringSerializer())) {
            admin.createTopics(List.of(new NewTopic(topic.name(), 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic.name(), "k", "in the open transaction")).get(30, TimeUnit.SECONDS);

            assertThat(TopicReader.readAll(broker.bootstrapServers(), topic)).as("read at once").isEmpty();

            ScheduledFuture<?> commit = later.schedule(() -> {
                producer.commitTransaction();
                return null;
            }, 500, TimeUnit.MILLISECONDS);
            assertThat(TopicReader.readAllSettled(broker.bootstrapServers(), topic)).map(ConsumerRecord::value)
                    .containsExactly("in the open transaction");
            commit.get(30, TimeUnit.SECONDS);
        } finally {
            later.shutdownNow();
        }
    }
}
