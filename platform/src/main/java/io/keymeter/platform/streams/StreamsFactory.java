package io.keymeter.platform.streams;

import io.keymeter.events.Topics;
import io.keymeter.platform.config.DataDirLock;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.AllPartitions;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.DependsOn;
import org.springframework.stereotype.Component;

/**
 * Builds every Kafka Streams application with the same guarantees: exactly-once v2, state under the data dir,
 * bounded RocksDB memory, static group membership, and unreadable or failing records sent to
 * {@code keymeter.dead-letters} with headers saying why, while the application keeps running.
 */
@Component
@DependsOn(DataDirLock.BEAN) // state directories and the static member id live in the data dir
public class StreamsFactory {

    /** Uncommitted writes held per topology (Streams instance) before an early commit, outside the block cache. */
    static final long UNCOMMITTED_BYTES = 16L * 1024 * 1024;
    /** StreamsConfig's constant for it is deprecated: the setting goes away when 5.0 makes it the default. */
    static final String PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED = "processing.exception.handler.global.enabled";

    private static final Logger log = LoggerFactory.getLogger(StreamsFactory.class);
    private static final Duration START_CHECK_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final KeymeterProperties properties;
    private final KafkaTopics topics;
    private final MeterRegistry meterRegistry;

    /** Depends on {@link KafkaTopics} so that no topology starts before the topics are created and checked. */
    public StreamsFactory(KafkaClients clients, KeymeterProperties properties, KafkaTopics topics,
                          ObjectProvider<MeterRegistry> meterRegistry) {
        this.clients = clients;
        this.properties = properties;
        this.topics = topics;
        this.meterRegistry = meterRegistry.getIfAvailable();
    }

    /** The configuration of application {@code keymeter-<name>}, usable by TopologyTestDriver too. */
    public Properties config(String name, Map<String, Object> overrides) {
        Properties config = config(clients.streams(), properties, name, overrides);
        if (!topics.timestampBoundsKnown()) {
            // a broker before 3.6 refuses to create a topic with a config it does not know
            KafkaTopics.timestampBounds().keySet().forEach(c -> config.remove(StreamsConfig.topicPrefix(c)));
        }
        return config;
    }

    /**
     * Whether the operator gave Kafka Streams an {@code application.server} ({@code spring.kafka.streams.properties},
     * {@code spring.kafka.properties} or the client-properties file): it applies as given, and the topologies whose
     * reads are forwarded derive none of their own.
     */
    public boolean operatorGaveApplicationServer() {
        return clients.streams().containsKey(StreamsConfig.APPLICATION_SERVER_CONFIG);
    }

    public StreamsApp create(String name, Topology topology, Map<String, Object> overrides) {
        return create(name, topology, overrides, StartRequirements.NONE);
    }

    public StreamsApp create(String name, Topology topology, Map<String, Object> overrides,
                             StartRequirements requirements) {
        RocksDbLibrary.loadUnder(properties.dataDir()); // before any store opens: not a new copy in /tmp each start
        Properties config = config(name, overrides);
        Path stateDir = Path.of(config.getProperty(StreamsConfig.STATE_DIR_CONFIG)).toAbsolutePath().normalize();
        // a state dir the operator moved out of the data dir is not under its lock: never deleted from here
        Optional<Path> ownStateDir = Optional.of(stateDir)
                .filter(dir -> dir.startsWith(properties.dataDir().toAbsolutePath().normalize()));
        return new StreamsApp(name, topology, config, meterRegistry,
                () -> prepareStart(name, topology, requirements, ownStateDir));
    }

    /**
     * Just before the topology starts: deletes its local state if that was built from another Kafka cluster
     * ({@link ClusterBoundState}), gives its existing changelogs their declared configs, then says why it must
     * not start, if it must not: its consumer group lost its offsets ({@link LostOffsets}, when required), or its
     * existing internal topics do not match its sources' partition counts ({@link InternalTopicLayout}).
     */
    private Optional<String> prepareStart(String name, Topology topology, StartRequirements requirements,
                                          Optional<Path> ownStateDir) {
        TopologyDescription description = topology.describe();
        String applicationId = applicationId(name);
        Set<String> sources = InternalTopicLayout.sourceTopics(description);
        try (Admin admin = clients.newAdmin()) {
            Set<String> names = admin.listTopics().names().get(START_CHECK_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .stream().filter(t -> t.startsWith(applicationId + "-") || sources.contains(t))
                    .collect(Collectors.toSet());
            List<String> internal = names.stream().filter(t -> t.startsWith(applicationId + "-")).toList();
            if (ownStateDir.isPresent()) {
                ClusterBoundState.bind(ownStateDir.get(), applicationId, admin.describeCluster().clusterId()
                        .get(START_CHECK_TIMEOUT.toSeconds(), TimeUnit.SECONDS), !internal.isEmpty());
            }
            applyChangelogConfigs(admin, requirements.changelogConfigs().entrySet().stream()
                    .collect(Collectors.toMap(e -> changelogTopic(name, e.getKey()), Map.Entry::getValue)), names);
            if (topics.timestampBoundsKnown()) {
                raiseTimestampBounds(admin, internal);
            }
            if (requirements.refuseLostOffsets()) {
                Optional<String> lost = LostOffsets.check(admin, clients.consumer(applicationId + "-start-check"),
                        applicationId, names, START_CHECK_TIMEOUT);
                if (lost.isPresent()) {
                    return Optional.of(name + " not started: " + lost.get());
                }
            }
            return InternalTopicLayout.mismatch(description, applicationId,
                    KafkaTopics.partitionCounts(admin, names, START_CHECK_TIMEOUT))
                    .map(mismatch -> TopicChange.notStarted(name, mismatch));
        } catch (ExecutionException | TimeoutException e) {
            // start-up has just created and checked the topics: Kafka Streams then checks what it can itself
            log.warn("Could not check the internal topics and offsets of {}: {}", applicationId, e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Kafka Streams gives its internal topics their configs only when it creates them (an earlier Keymeter's). */
    private static void raiseTimestampBounds(Admin admin, List<String> internalTopics) throws InterruptedException {
        try {
            KafkaTopics.raiseTimestampBounds(admin, internalTopics, START_CHECK_TIMEOUT)
                    .forEach(change -> log.info("Internal topic config raised: {}", change));
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Could not widen the record-time bounds of {} to {}: {}; set them with kafka-configs --alter",
                    internalTopics, KafkaTopics.timestampBounds(), e.toString());
        }
    }

    private static void applyChangelogConfigs(Admin admin, Map<String, Map<String, String>> changelogs,
                                              Set<String> existing) throws InterruptedException {
        try {
            ChangelogConfigs.apply(admin, changelogs, existing, START_CHECK_TIMEOUT).forEach(change ->
                    log.info("Changelog config set (Kafka Streams sets them only when it creates a topic): {}", change));
        } catch (ExecutionException | TimeoutException e) {
            // not fatal now: a compaction lag too short loses history only on a later restore from the changelog
            log.warn("Could not give the changelogs their configs {}: {}; set them with kafka-configs --alter",
                    changelogs, e.toString());
        }
    }

    /** A topology's application id: its consumer group and the prefix of its internal topics. */
    public static String applicationId(String name) {
        return "keymeter-" + name;
    }

    /** The changelog topic Kafka Streams keeps for store {@code store} of topology {@code name}. */
    public static String changelogTopic(String name, String store) {
        return applicationId(name) + "-" + store + "-changelog";
    }

    /**
     * The production settings, without a Spring context (tests, benchmarks). Precedence, lowest first: Keymeter's
     * defaults, then the operator's {@code spring.kafka.streams.*} settings in {@code base}, then the topology's own
     * overrides; the application id is always {@code keymeter-<name>}.
     */
    public static Properties config(Map<String, Object> base, KeymeterProperties properties, String name,
                                    Map<String, Object> overrides) {
        Properties p = new Properties();
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, properties.stateDir().toAbsolutePath().toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, properties.streams().commitInterval().toMillis());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, properties.streams().threads());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, properties.topics().replicationFactor());
        // changelogs and repartition topics as Keymeter's own topics: two in sync with three replicas or more
        KafkaTopics.minInSyncReplicas(properties.topics().replicationFactor()).ifPresent(min ->
                p.put(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG), min));
        // and kept by time only, as Keymeter's own (KafkaTopics.keepTimes): a cluster's log.retention.bytes deleted a
        // repartition topic's oldest segments whatever their age, records not yet read
        p.put(StreamsConfig.topicPrefix(TopicConfig.RETENTION_BYTES_CONFIG), "-1");
        // and taking the request times written to them whatever the cluster's bounds (KafkaTopics.timestampBounds)
        KafkaTopics.timestampBounds().forEach((config, value) -> p.put(StreamsConfig.topicPrefix(config), value));
        // KIP-892: writes stay in a transaction buffer until their changelog transaction commits, so after a crash
        // a store keeps its committed state instead of being wiped and restored from its whole changelog
        p.put(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, true);
        p.put(StreamsConfig.STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG, UNCOMMITTED_BYTES);
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbConfigSetter.class);
        p.put(BoundedRocksDbConfigSetter.CACHE_BYTES, properties.streams().rocksdbCache().toBytes());
        p.put(BoundedRocksDbConfigSetter.WRITE_BUFFER_BYTES, properties.streams().rocksdbWriteBuffers().toBytes());
        // Kafka's LogAndContinue handlers, but a line per failure at most, not a stack trace each
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, Topics.DEAD_LETTERS);
        // KIP-1270: Kafka 5.0's default. No topology has a global store, so this changes nothing but the warning
        // every StreamsConfig logs without it, including the one the main consumer's partition assignor builds
        // from the consumer's settings (hence the prefixed copy)
        p.put(PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED, true);
        p.put(StreamsConfig.mainConsumerPrefix(PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED), true);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        p.putAll(base);
        p.putAll(overrides);
        // a sink without a partitioner of its own goes where its producer's partitioner says
        KafkaClients.keyPartitioning(p, StreamsConfig.producerPrefix(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG),
                "Kafka Streams " + name);
        if (!p.containsKey(CommonClientConfigs.METADATA_MAX_AGE_CONFIG)
                && !p.containsKey(StreamsConfig.mainConsumerPrefix(CommonClientConfigs.METADATA_MAX_AGE_CONFIG))) {
            // partitions added to a source topic stop the topology (TopicChange) within seconds, not the
            // default 5 min, and so before the producers, still on the old count, send a key state elsewhere
            p.put(StreamsConfig.mainConsumerPrefix(CommonClientConfigs.METADATA_MAX_AGE_CONFIG),
                    (int) AllPartitions.METADATA_MAX_AGE.toMillis());
        }
        if (properties.streams().staticMembership() && !p.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
            // kept in the final state dir: an override of it must not make two instances share one id
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                    StaticMembership.instanceId(Path.of(String.valueOf(p.get(StreamsConfig.STATE_DIR_CONFIG)))));
        }
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId(name));
        p.put(StreamsConfig.CLIENT_ID_CONFIG, applicationId(name));
        return p;
    }
}
