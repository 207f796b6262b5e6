package io.keymeter.app.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.OwnKafka;
import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.Topics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The billing ledger whose consumer group lost its offsets (Kafka's {@code offsets.retention.minutes}, simulated by
 * deleting the stopped group) must not start: it would read its topics again from the earliest record, count every
 * rejection kept on {@code keymeter.rejections} a second time (a report's {@code rejectedRequests} doubled) and replay
 * older usage totals of closed cycles (adjustments down, then up again). Own broker.
 */
@Timeout(180)
class BillingLostOffsetsTest {

    private static final String GROUP = StreamsFactory.applicationId(BillingTopology.APP_NAME);

    private OwnKafka kafka;

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-billing-offsets");
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void theLedgerWhoseGroupLostItsOffsetsIsNotStarted() throws Exception {
        startKeymeter();
        await("billing running").atMost(Duration.ofSeconds(90))
                .until(() -> billing().state() == KafkaStreams.State.RUNNING);
        try (KafkaProducer<String, Rejection> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                Topics.REJECTIONS.keySerde().serializer(), Topics.REJECTIONS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.REJECTIONS.name(), "keyidkeyidkeyid1", new Rejection("r-1",
                    "keyidkeyidkeyid1", "acme", "cred-1", "basemaps", "op", 1, null, null, Instant.now(),
                    RejectionReason.EXPIRED))).get();
        }
        // the ledger reads a repartition by account: its offset moves once the rejection is counted and committed
        await("counted and committed").atMost(Duration.ofSeconds(60)).until(() ->
                kafka.admin().listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get().entrySet().stream()
                        .filter(e -> e.getKey().topic().endsWith("-repartition"))
                        .mapToLong(e -> e.getValue().offset()).sum() > 0);
        kafka.stopKeymeter();
        kafka.admin().deleteConsumerGroups(List.of(GROUP)).all().get();

        startKeymeter();
        assertThat(billing().state()).isEqualTo(KafkaStreams.State.ERROR);
        assertThat(billing().stoppedBecause()).hasValueSatisfying(reason -> assertThat(reason)
                .contains("its consumer group " + GROUP + " has no committed offsets").contains("--reset-offsets"));
    }

    private void startKeymeter() {
        kafka.startKeymeter("--keymeter.roles=billing-report", "--keymeter.data-dir=" + kafka.dir());
    }

    private StreamsApp billing() {
        return kafka.streams(BillingTopology.APP_NAME);
    }
}
