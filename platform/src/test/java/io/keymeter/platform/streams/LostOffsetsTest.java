package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Committed state without committed offsets stops a start; a first start, or one after an aborted first try, does not. */
@Timeout(120)
class LostOffsetsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static OwnBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = OwnBroker.start(dir, List.of(new NewTopic("in", 2, (short) 1),
                new NewTopic("lost-store-changelog", 2, (short) 1),
                new NewTopic("aborted-store-changelog", 2, (short) 1),
                new NewTopic("kept-store-changelog", 2, (short) 1)));
        send("lost-store-changelog", null);
        send("aborted-store-changelog", "aborted-tx");
        send("kept-store-changelog", null);
        kafka.admin().alterConsumerGroupOffsets("kept",
                Map.of(new TopicPartition("in", 0), new OffsetAndMetadata(1))).all().get();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void committedStateWithoutOffsetsIsRefusedWithTheWayOut() throws Exception {
        Optional<String> refused = check("lost");

        assertThat(refused).hasValueSatisfying(reason -> assertThat(reason)
                .contains("its consumer group lost has no committed offsets")
                .contains("changelog lost-store-changelog holds committed state")
                .contains("kafka-consumer-groups --group lost --reset-offsets"));
    }

    @Test
    void aFirstStartHasNeitherOffsetsNorState() throws Exception {
        assertThat(check("new")).isEmpty();
    }

    @Test
    void aFirstTryThatCrashedBeforeItsFirstCommitLeftOnlyAbortedState() throws Exception {
        assertThat(check("aborted")).isEmpty();
    }

    @Test
    void committedOffsetsAreWhatATopologyResumesFrom() throws Exception {
        assertThat(check("kept")).isEmpty();
    }

    /**
     * The consumer's own timeout is unchecked: it escaped the start-up check, and a broker slow to answer failed the
     * application's start instead of skipping the check with a warning, as the admin's timeouts do.
     */
    @Test
    void aConsumerThatGetsNoAnswerInTimeIsATimeoutTheStartUpCheckHandles() throws Exception {
        Set<String> existing = kafka.admin().listTopics().names().get();
        Map<String, Object> unanswered = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                "localhost:" + io.keymeter.kafka.FreePorts.next());

        assertThatThrownBy(() -> LostOffsets.check(kafka.admin(), unanswered, "lost", existing, Duration.ofSeconds(1)))
                .isInstanceOf(java.util.concurrent.TimeoutException.class).hasMessageContaining("lost-store-changelog");
    }

    private static Optional<String> check(String applicationId) throws Exception {
        Set<String> existing = kafka.admin().listTopics().names().get();
        return LostOffsets.check(kafka.admin(), Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                applicationId, existing, TIMEOUT);
    }

    /** A record on the topic: plain, or in a transaction that is aborted. */
    private static void send(String topic, String abortedTransaction) throws Exception {
        Map<String, Object> config = abortedTransaction == null
                ? Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers())
                : Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ProducerConfig.TRANSACTIONAL_ID_CONFIG, abortedTransaction);
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            if (abortedTransaction == null) {
                producer.send(new ProducerRecord<>(topic, 1, "key", "state")).get();
                return;
            }
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 1, "key", "state")).get();
            producer.abortTransaction();
        }
    }
}
