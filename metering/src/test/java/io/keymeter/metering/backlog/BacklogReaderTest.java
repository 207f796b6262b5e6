package io.keymeter.metering.backlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.testsupport.SharedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The backlog as Kafka has it, on a real broker: committed offsets against what a read_committed reader reaches. */
class BacklogReaderTest {

    private final String topic = "backlog-" + UUID.randomUUID();
    private final String group = "backlog-group-" + UUID.randomUUID();

    @Test
    void aGroupIsBehindByWhatItHasNotCommittedOfEveryPartition() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()));
             KafkaProducer<String, String> producer = producer(null);
             KafkaProducer<String, String> transactional = producer("backlog-tx-" + UUID.randomUUID())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
            BacklogReader reader = new BacklogReader(admin, Duration.ofSeconds(10));
            assertThat(reader.behind(group, topic)).as("an empty topic").isZero();

            send(producer, 0, 5);
            send(producer, 1, 3);
            // a group that committed nothing is behind by everything
            assertThat(reader.behind(group, topic)).isEqualTo(8);

            admin.alterConsumerGroupOffsets(group, Map.of(partition(0), new OffsetAndMetadata(2),
                    partition(1), new OffsetAndMetadata(3))).all().get();
            assertThat(reader.behind(group, topic)).isEqualTo(3);

            // an open transaction's records count, and what it holds back behind it (a read_committed reader gets
            // none of it until the transaction ends); its marker counts once it commits: offsets, not records
            transactional.initTransactions();
            transactional.beginTransaction();
            send(transactional, 2, 2);
            send(producer, 2, 1);
            assertThat(reader.behind(group, topic)).as("held behind an open transaction").isEqualTo(3 + 3);
            transactional.commitTransaction();
            // the commit's marker reaches the partition after commitTransaction returns
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(reader.behind(group, topic)).isEqualTo(3 + 4));

            admin.alterConsumerGroupOffsets(group, Map.of(partition(0), new OffsetAndMetadata(5),
                    partition(2), new OffsetAndMetadata(4))).all().get();
            assertThat(reader.behind(group, topic)).isZero();
        }
    }

    private TopicPartition partition(int partition) {
        return new TopicPartition(topic, partition);
    }

    private void send(KafkaProducer<String, String> producer, int partition, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>(topic, partition, "k" + i, "v" + i)).get();
        }
    }

    private static KafkaProducer<String, String> producer(String transactionalId) {
        Map<String, Object> config = new HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()));
        if (transactionalId != null) {
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }
}
