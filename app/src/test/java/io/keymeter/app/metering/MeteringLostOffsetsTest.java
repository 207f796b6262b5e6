package io.keymeter.app.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TopicReader;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Kafka deletes the committed offsets of a consumer group that has had no member for {@code offsets.retention.minutes}
 * (7 days by default). Metering restarted after a longer stop would read {@code keymeter.requests} again from the
 * earliest record and bill every request older than the dedupe window a second time. It must not start, and say why
 * and what to do; once the operator has set the group's offsets, it starts. Own broker; the expiry is simulated by
 * deleting the stopped group, which is what Kafka's expiry does to its offsets.
 */
@Timeout(180)
class MeteringLostOffsetsTest {

    private static final String GROUP = StreamsFactory.applicationId(MeteringConfiguration.APP_NAME);

    private OwnKafka kafka;

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-offsets");
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void meteringWhoseGroupLostItsOffsetsIsNotStartedUntilTheyAreSet() throws Exception {
        startKeymeter();
        await("metering running").atMost(Duration.ofSeconds(90))
                .until(() -> metering().state() == KafkaStreams.State.RUNNING);
        kafka.sendRequests(new RequestLog("metered-once", "noSuchKeyId00000", "0".repeat(64), "basemaps", "op", 1, null, null,
                Instant.now()));
        await("judged and committed").atMost(Duration.ofSeconds(30)).until(() ->
                TopicReader.readAll(kafka.bootstrapServers(), Topics.REJECTIONS).size() == 1
                        && !kafka.admin().listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get().isEmpty());
        kafka.stopKeymeter();
        kafka.admin().deleteConsumerGroups(List.of(GROUP)).all().get();

        startKeymeter();
        assertThat(metering().state()).isEqualTo(KafkaStreams.State.ERROR);
        assertThat(metering().stoppedBecause()).hasValueSatisfying(reason -> assertThat(reason)
                .startsWith("metering not started: its consumer group keymeter-metering has no committed offsets")
                .contains("--reset-offsets"));
        kafka.stopKeymeter();

        // the way out the message gives: the group's offsets set to where metering stopped (here: the end)
        List<TopicPartition> partitions = kafka.admin().describeTopics(List.of(Topics.REQUESTS.name(), Topics.API_KEYS.name()))
                .allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition()))).toList();
        Map<TopicPartition, OffsetAndMetadata> ends = kafka.admin().listOffsets(partitions.stream()
                        .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> new OffsetAndMetadata(e.getValue().offset())));
        kafka.admin().alterConsumerGroupOffsets(GROUP, ends).all().get();
        startKeymeter();
        await("metering running again").atMost(Duration.ofSeconds(90))
                .until(() -> metering().state() == KafkaStreams.State.RUNNING);
    }

    private void startKeymeter() {
        kafka.startKeymeter("--keymeter.roles=metering", "--keymeter.data-dir=" + kafka.dir());
    }

    private StreamsApp metering() {
        return kafka.streams(MeteringConfiguration.APP_NAME);
    }
}
