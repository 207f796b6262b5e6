package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A group-less consumer on a real broker keeps reading a topic whose partitions are added while it runs. */
@Timeout(120)
class AllPartitionsTest {

    @TempDir
    static Path dir;
    private static OwnBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = OwnBroker.start(dir, List.of(new NewTopic("follow-in", 2, (short) 1)));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void recordsOnPartitionsAddedLaterAreReadFromTheirBeginning() throws Exception {
        Map<String, Object> config = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
        AllPartitions.configure(config);
        AllPartitions all = new AllPartitions("follow-in");
        List<String> read = new ArrayList<>();
        List<TopicPartition> added = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                     new StringDeserializer());
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                     new StringSerializer(), new StringSerializer())) {
            assertThat(all.assign(consumer, Duration.ofSeconds(30))).hasSize(2);
            assertThat(all.follow(consumer)).isEmpty();
            producer.send(new ProducerRecord<>("follow-in", 1, "k", "before")).get();
            await().atMost(Duration.ofSeconds(30)).until(() -> poll(consumer, all, read, added).contains("before"));

            kafka.admin().createPartitions(Map.of("follow-in", NewPartitions.increaseTo(4))).all().get();
            // sent before the consumer can know of the partition: read anyway, from its beginning
            producer.send(new ProducerRecord<>("follow-in", 3, "k", "on an added partition")).get();
            producer.send(new ProducerRecord<>("follow-in", 3, "k", "after it")).get();

            await().atMost(Duration.ofSeconds(30)).until(() -> poll(consumer, all, read, added).contains("after it"));
        }
        assertThat(read).containsExactly("before", "on an added partition", "after it");
        assertThat(added).containsExactly(new TopicPartition("follow-in", 2), new TopicPartition("follow-in", 3));
    }

    private static List<String> poll(KafkaConsumer<String, String> consumer, AllPartitions all, List<String> read,
                                     List<TopicPartition> added) {
        consumer.poll(Duration.ofMillis(200)).forEach(record -> read.add(record.value()));
        added.addAll(all.follow(consumer));
        return read;
    }
}
