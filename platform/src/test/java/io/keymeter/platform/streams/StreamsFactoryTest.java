package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RoundRobinPartitioner;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;

class StreamsFactoryTest {

    @TempDir
    Path dir;

    /**
     * A sink without a partitioner of its own goes where Kafka Streams' producer's partitioner says: one given to the
     * cluster's clients put key states away from their requests. Read through Kafka's own producer settings.
     */
    @Test
    void aPartitionerGivenToEveryClientIsNotKafkaStreams() {
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null,
                null, null, null, null, null);
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092",
                ProducerConfig.PARTITIONER_CLASS_CONFIG, RoundRobinPartitioner.class.getName(),
                ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, "true",
                StreamsConfig.producerPrefix(ProducerConfig.PARTITIONER_CLASS_CONFIG), RoundRobinPartitioner.class.getName()),
                properties, "metering", Map.of());

        Map<String, Object> producer = new StreamsConfig(config).getProducerConfigs("metering-producer");
        assertThat(producer).doesNotContainKey(ProducerConfig.PARTITIONER_CLASS_CONFIG)
                .containsEntry(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, false);
    }

    @Test
    void theProductionSettingsGiveKafkaStreamsNothingToWarnAbout() {
        // RocksDB sizes other than the setter's own fallbacks, so that the test sees them passed on
        KeymeterProperties properties = new KeymeterProperties(null, dir.resolve("data"), null, null, null, null,
                null, null, null, null, new KeymeterProperties.Streams(null, null, DataSize.ofMegabytes(96),
                        DataSize.ofMegabytes(24), null));
        Properties config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092"),
                properties, "metering", Map.of());
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in").to("out");
        Logger logger = (Logger) LoggerFactory.getLogger(StreamsConfig.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        // creating the client builds its stream thread, whose consumer's partition assignor reads the settings again
        // internal topics kept by time only, whatever the cluster's log.retention.bytes
        assertThat(config.get(StreamsConfig.topicPrefix("retention.bytes"))).isEqualTo("-1");
        // and taking records stamped with a request's time whatever the cluster's bounds
        assertThat(config.get(StreamsConfig.topicPrefix("message.timestamp.before.max.ms")))
                .isEqualTo(String.valueOf(Long.MAX_VALUE));
        assertThat(config.get(StreamsConfig.topicPrefix("message.timestamp.after.max.ms"))).isEqualTo("3600000");
        // RocksDB's memory bounded by one setter, sized by keymeter.streams.rocksdb-cache and -write-buffers
        assertThat(config.get(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG))
                .isEqualTo(BoundedRocksDbConfigSetter.class);
        assertThat(config.get(BoundedRocksDbConfigSetter.CACHE_BYTES)).isEqualTo(96L << 20);
        assertThat(config.get(BoundedRocksDbConfigSetter.WRITE_BUFFER_BYTES)).isEqualTo(24L << 20);
        try (KafkaStreams ignored = new KafkaStreams(builder.build(), config)) {
            assertThat(logged.list).filteredOn(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                    .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        } finally {
            logger.detachAppender(logged);
        }
    }
}
