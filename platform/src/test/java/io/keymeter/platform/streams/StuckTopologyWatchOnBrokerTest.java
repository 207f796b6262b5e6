package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StuckTopologyWatch.Watched;
import io.keymeter.platform.testing.MovableClock;
import io.keymeter.platform.testing.OwnBroker;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real broker: a gateway's transaction left open on a partition a running topology reads holds the topology
 * there (running, reading nothing past it), and {@link StuckTopologyWatch} names it, from the partitions the
 * topology's tasks read, once it has been open from the same offset for two minutes; once it ends, the records
 * behind it are read and nothing is named.
 */
@Timeout(180)
class StuckTopologyWatchOnBrokerTest {

    private static final String IN = "held-in";
    private static final String OUT = "held-out";

    @TempDir
    Path dir;

    private final MovableClock clock = new MovableClock(Instant.now());

    @Test
    void aTransactionLeftOpenOnAPartitionARunningTopologyReadsIsNamedAfterTwoMinutes() throws Exception {
        try (OwnBroker broker = OwnBroker.start(dir, List.of(new NewTopic(IN, 2, (short) 1),
                new NewTopic(OUT, 2, (short) 1)));
             KafkaProducer<String, String> gateway = producer(broker, "gateway-7");
             KafkaProducer<String, String> other = producer(broker, "gateway-8");
             KafkaConsumer<String, String> reader = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                     new StringDeserializer(), new StringDeserializer())) {
            StreamsApp app = new StreamsApp("held", passThrough(), config(broker), null);
            app.start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> app.state() == KafkaStreams.State.RUNNING);
                TopicPartition held = new TopicPartition(IN, 1);
                await().atMost(Duration.ofSeconds(30)).until(app::activeInputs,
                        inputs -> inputs.equals(Set.of(new TopicPartition(IN, 0), held)));
                StuckTopologyWatch watch = new StuckTopologyWatch(List.of(new Watched(app.name(),
                        StreamsFactory.applicationId(app.name()), app::state, app::activeInputs)),
                        new OpenTransactions(broker.admin(), Clock.systemUTC(), Duration.ofSeconds(10)), clock,
                        broker.bootstrapServers(), Optional.empty(), null);

                gateway.initTransactions();
                gateway.beginTransaction();
                long start = gateway.send(new ProducerRecord<>(IN, 1, "k", "left open")).get().offset();
                other.initTransactions();
                other.beginTransaction();
                other.send(new ProducerRecord<>(IN, 1, "k", "behind it"));
                other.send(new ProducerRecord<>(IN, 0, "k", "beside it"));
                other.commitTransaction();

                reader.assign(List.of(new TopicPartition(OUT, 0), new TopicPartition(OUT, 1)));
                List<String> out = new ArrayList<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    reader.poll(Duration.ofMillis(200)).forEach(record -> out.add(record.value()));
                    return out.contains("beside it");
                });
                assertThat(out).as("the topology runs, but not past the open transaction").containsExactly(
                        "beside it");
                assertThat(watch.check()).as("just seen").isEmpty();
                clock.advance(StuckTopologyWatch.STUCK_AFTER);

                assertThat(watch.check()).singleElement().asString()
                        .startsWith("held reads held-in-1 no further than offset " + start + ": a transaction of "
                                + "producer ")
                        .contains("transactional id gateway-7) has been open there from that offset for at least 2 "
                                + "min; its coordinator holds it Ongoing with this partition. Until it ends")
                        .contains("Its producer may still end it, or its coordinator at its timeout, ");

                gateway.commitTransaction();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    reader.poll(Duration.ofMillis(200)).forEach(record -> out.add(record.value()));
                    return out.size() == 3;
                });
                assertThat(out).containsExactly("beside it", "left open", "behind it");
                assertThat(watch.check()).isEmpty();
                clock.advance(StuckTopologyWatch.WARN_EVERY);
                assertThat(watch.check()).as("ended: forgotten").isEmpty();
            } finally {
                app.stop();
            }
        }
    }

    private static KafkaProducer<String, String> producer(OwnBroker broker, String transactionalId) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000),
                new StringSerializer(), new StringSerializer());
    }

    private static Topology passThrough() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(IN, Consumed.with(Serdes.String(), Serdes.String())).to(OUT,
                Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    private Properties config(OwnBroker broker) {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null, null,
                null, null, null, null);
        return StreamsFactory.config(Map.of(), properties, "held", Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }
}
