package io.keymeter.platform.streams;

import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;

/**
 * Kafka Streams whose {@link #metrics()} leaves out the transactional state stores' {@code uncommitted-bytes} gauge.
 * Kafka 4.4 computes it from the store's RocksDB write batch without checking the batch is still open, so a read
 * that races the store's close (a task moving away in a rebalance, a shutdown) touches freed native memory and
 * crashes the JVM: SIGSEGV in {@code WriteBatch.getDataSize}, seen at the end of a {@code VerifyBenchmark} run, read
 * by Micrometer's Kafka binder, which reads the value of every metric the application lists once a minute to decide
 * what to publish (it did not publish this one). Nothing of Keymeter's reads it. Its stream threads' producers
 * report a commit that timed out as a fencing ({@link CommitTimeoutFencing}).
 */
final class GuardedMetricsKafkaStreams extends KafkaStreams {

    /** The gauge left out (group {@code stream-state-metrics}). */
    static final String UNCOMMITTED_BYTES = "uncommitted-bytes";

    GuardedMetricsKafkaStreams(Topology topology, Properties config) {
        this(topology, config, UnaryOperator.identity());
    }

    /** With {@code producerFaults} wrapping Kafka's producers first (a test's, that fail on demand). */
    GuardedMetricsKafkaStreams(Topology topology, Properties config,
                               UnaryOperator<Producer<byte[], byte[]>> producerFaults) {
        super(topology, config, new CommitTimeoutFencing(producerFaults));
    }

    @Override
    public Map<MetricName, ? extends Metric> metrics() {
        return super.metrics().entrySet().stream()
                .filter(entry -> !entry.getKey().name().equals(UNCOMMITTED_BYTES))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
    }
}
