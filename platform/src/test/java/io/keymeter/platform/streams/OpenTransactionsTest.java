package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real broker: a transaction holding offsets of a group, left open, keeps the group's committed offsets
 * unreadable (what a stuck topology's log says every minute), and {@link OpenTransactions} finds it on the group's
 * offsets partition with what its coordinator says; once it ends, nothing is found.
 */
@Timeout(120)
class OpenTransactionsTest {

    private static final String GROUP = "keymeter-stuck-test";
    private static final TopicPartition IN = new TopicPartition("stuck-in", 0);

    @TempDir
    Path dir;

    @Test
    void aTransactionLeftOpenWithAGroupsOffsetsIsFoundOnItsOffsetsPartitionUntilItEnds() throws Exception {
        try (OwnBroker broker = OwnBroker.start(dir, List.of(new NewTopic(IN.topic(), 1, (short) 1)));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.TRANSACTIONAL_ID_CONFIG, GROUP + "-process-1",
                     ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000),
                     new ByteArraySerializer(), new ByteArraySerializer());
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, GROUP,
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // each admin call's bound: the once-checks below must not time out on a loaded machine
            OpenTransactions transactions = new OpenTransactions(broker.admin(), Clock.systemUTC(),
                    Duration.ofSeconds(30));
            producer.initTransactions();
            Instant started = Instant.now();
            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(IN, new OffsetAndMetadata(5)), new ConsumerGroupMetadata(GROUP));

            List<OpenTransaction> open = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> transactions.onOffsetsOf(GROUP), found -> !found.isEmpty());
            TopicPartition offsets = transactions.offsetsPartitionOf(GROUP);
            int partitions = broker.admin().describeTopics(List.of("__consumer_offsets")).allTopicNames().get()
                    .get("__consumer_offsets").partitions().size();
            assertThat(offsets.partition()).isEqualTo(Utils.abs(GROUP.hashCode()) % partitions);
            assertThat(open).singleElement().satisfies(transaction -> {
                assertThat(transaction.partition()).isEqualTo(offsets);
                assertThat(transaction.startOffset()).isNotNegative();
                assertThat(transaction.transactionalId()).contains(GROUP + "-process-1");
                assertThat(transaction.coordinatorView()).hasValueSatisfying(view -> {
                    assertThat(view.state()).isEqualTo("Ongoing");
                    assertThat(view.partitions()).contains(offsets);
                    assertThat(view.timesOutAt()).hasValueSatisfying(at -> assertThat(at)
                            .isBetween(started.plusSeconds(590), Instant.now().plusSeconds(600)));
                });
                assertThat(transaction.hanging(Duration.ofHours(1))).isFalse();
                assertThat(transaction.mayHoldOffsetsOf(GROUP)).isTrue();
            });
            // the symptom: the group's committed offsets cannot be read while it is open
            assertThatThrownBy(() -> consumer.committed(Set.of(IN), Duration.ofSeconds(3)))
                    .isInstanceOf(TimeoutException.class);

            producer.commitTransaction();

            await().atMost(Duration.ofSeconds(30)) // a timed-out admin call is asked again
                    .ignoreExceptions().until(() -> transactions.onOffsetsOf(GROUP), List::isEmpty);
            assertThat(consumer.committed(Set.of(IN), Duration.ofSeconds(30)).get(IN).offset()).isEqualTo(5);
        }
    }

    @Test
    void aTransactionLeftOpenOnADataPartitionHoldsItsStableEndAndIsFoundThereUntilItEnds() throws Exception {
        TopicPartition data = new TopicPartition("held-data", 1);
        try (OwnBroker broker = OwnBroker.start(dir, List.of(new NewTopic(data.topic(), 2, (short) 1)));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.TRANSACTIONAL_ID_CONFIG, "gateway-7",
                     ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000),
                     new ByteArraySerializer(), new ByteArraySerializer());
             KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer());
             KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // each admin call's bound: the once-checks below must not time out on a loaded machine
            OpenTransactions transactions = new OpenTransactions(broker.admin(), Clock.systemUTC(),
                    Duration.ofSeconds(30));
            plain.send(new ProducerRecord<>(data.topic(), data.partition(), null, new byte[1])).get();
            producer.initTransactions();
            producer.beginTransaction();
            long start = producer.send(new ProducerRecord<>(data.topic(), data.partition(), null, new byte[1])).get()
                    .offset();
            plain.send(new ProducerRecord<>(data.topic(), data.partition(), null, new byte[1])).get();

            // the symptom: a read_committed reader's end stays at the open transaction's first record
            assertThat(reader.endOffsets(Set.of(data)).get(data)).isEqualTo(start);
            List<OpenTransaction> open = transactions.on(List.of(data, new TopicPartition(data.topic(), 0)));
            assertThat(open).singleElement().satisfies(transaction -> {
                assertThat(transaction.partition()).isEqualTo(data);
                assertThat(transaction.startOffset()).isEqualTo(start);
                assertThat(transaction.transactionalId()).contains("gateway-7");
                assertThat(transaction.coordinatorView()).hasValueSatisfying(view -> {
                    assertThat(view.state()).isEqualTo("Ongoing");
                    assertThat(view.partitions()).containsExactly(data);
                });
                assertThat(transaction.hanging(Duration.ofHours(1))).isFalse();
            });
            assertThat(transactions.on(List.of())).isEmpty();

            producer.commitTransaction();

            await().atMost(Duration.ofSeconds(30)) // a timed-out admin call is asked again
                    .ignoreExceptions().until(() -> transactions.on(List.of(data)), List::isEmpty);
            assertThat(reader.endOffsets(Set.of(data)).get(data)).isEqualTo(start + 3); // its marker counts one
        }
    }
}
