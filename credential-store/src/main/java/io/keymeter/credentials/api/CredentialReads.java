package io.keymeter.credentials.api;

import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.AccountIndex;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

/**
 * Reads credentials from the {@code credentials} store through interactive queries. This instance answers for the
 * partitions it hosts; {@link #owner} and {@link #otherInstances} tell where the rest live (from the
 * {@code application.server} metadata), so the controller can forward. Secret hashes never leave here. A store that
 * is not queryable yet (starting, rebalancing) answers 503 with Retry-After, and so does a partition whose task is
 * not running here ({@link RunningPartitions}): Kafka Streams 4.4 serves a query from an active task being restored,
 * such as one restored again from scratch after a corruption while its stream thread stays RUNNING, and its store
 * then held none or part of the partition's credentials (404s, and lists without them).
 */
@Component
class CredentialReads {

    private final StreamsApp streams;
    private final RunningPartitions running;
    private final HostInfo self;
    private final int partitionCount;

    CredentialReads(@Qualifier(CredentialStoreConfiguration.STREAMS) StreamsApp streams, KafkaTopics topics,
                    @Qualifier(CredentialStoreConfiguration.RUNNING_PARTITIONS) RunningPartitions running) {
        this.streams = streams;
        this.running = running;
        this.partitionCount = topics.partitions(CredentialTopics.COMMANDS.name());
        String server = streams.config().getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG);
        this.self = server == null || server.isEmpty() ? HostInfo.unavailable() : HostInfo.buildFromEndpoint(server);
    }

    /**
     * The account's credential, or empty when missing or another account's (indistinguishable on purpose). Read only
     * from the credential's own partition, and only while this instance owns it: a partition moving away or not yet
     * here (a rebalance, or a read forwarded just before one) is a 503, not a 404 that says an existing credential is
     * gone. With no {@code application.server} (one instance, every partition its own) still from its partition: one
     * being restored is a 503.
     */
    Optional<Credential> find(String accountId, String credentialId) {
        try {
            int partition = ownedPartition(credentialId);
            ReadOnlyKeyValueStore<String, Credential> store = store(CredentialTopology.STORE, partition);
            Optional<Credential> found = Optional.ofNullable(store.get(credentialId));
            requireRunning(partition);
            return found.filter(c -> c.accountId().equals(accountId)).map(Credential::withoutSecrets);
        } catch (InvalidStateStoreException e) {
            throw notReady();
        }
    }

    /**
     * The credential's partition when this instance is its active host now (or the only instance: no
     * {@code application.server}); otherwise a 503.
     */
    private int ownedPartition(String credentialId) {
        if (self.equals(HostInfo.unavailable())) {
            // no metadata without application.server: the partition the command producer's partitioner chose
            return KafkaTopics.partitionOf(credentialId, partitionCount);
        }
        KeyQueryMetadata metadata = kafkaStreams().queryMetadataForKey(CredentialTopology.STORE, credentialId,
                Serdes.String().serializer());
        if (metadata == null || metadata.equals(KeyQueryMetadata.NOT_AVAILABLE) || !metadata.activeHost().equals(self)) {
            throw notReady();
        }
        return metadata.partition();
    }

    /**
     * The account's credentials in the store's partitions this instance owns now, each read from its own partition
     * (one still being restored here is a 503), with those partitions: a caller merging the answers of every instance
     * checks that they cover every partition. With no {@code application.server} (one instance): every partition.
     */
    Listed list(String accountId) {
        try {
            // one instance (no application.server) owns every partition; each is still read on its own, so that one
            // being restored is a 503 rather than left out
            Set<Integer> owned = self.equals(HostInfo.unavailable()) ? allPartitions() : partitionsOf(self);
            List<Credential> credentials = new ArrayList<>();
            for (int partition : owned) {
                credentials.addAll(AccountIndex.credentialsOf(accountId,
                        this.<String>store(CredentialTopology.ACCOUNT_INDEX, partition),
                        store(CredentialTopology.STORE, partition)));
                requireRunning(partition);
            }
            return new Listed(credentials, owned);
        } catch (InvalidStateStoreException e) {
            throw notReady();
        }
    }

    /** Credentials without their secrets, and the store partitions they were read from. */
    record Listed(List<Credential> credentials, Set<Integer> partitions) {
        Listed {
            credentials = credentials.stream().map(Credential::withoutSecrets).toList();
            partitions = Set.copyOf(partitions);
        }
    }

    /** Every partition of the store (those of its source topic). */
    Set<Integer> allPartitions() {
        return IntStream.range(0, partitionCount).boxed().collect(Collectors.toSet());
    }

    /** The store partitions {@code host} owns as this instance's metadata says (what an older instance is taken to answer). */
    Set<Integer> partitionsOf(HostInfo host) {
        return kafkaStreams().streamsMetadataForStore(CredentialTopology.STORE).stream()
                .filter(metadata -> metadata.hostInfo().equals(host))
                .flatMap(metadata -> metadata.topicPartitions().stream())
                .filter(partition -> partition.topic().equals(CredentialTopics.COMMANDS.name()))
                .map(TopicPartition::partition).collect(Collectors.toSet());
    }

    /** Another instance that owns the credential's partition, or empty when this one does (or nobody says). */
    Optional<HostInfo> owner(String credentialId) {
        if (self.equals(HostInfo.unavailable())) {
            return Optional.empty();
        }
        KeyQueryMetadata metadata = kafkaStreams().queryMetadataForKey(CredentialTopology.STORE, credentialId,
                Serdes.String().serializer());
        if (metadata == null || metadata.equals(KeyQueryMetadata.NOT_AVAILABLE) || metadata.activeHost().equals(self)) {
            return Optional.empty();
        }
        return Optional.of(metadata.activeHost());
    }

    /** The other instances hosting part of the store. */
    List<HostInfo> otherInstances() {
        if (self.equals(HostInfo.unavailable())) {
            return List.of();
        }
        return kafkaStreams().streamsMetadataForStore(CredentialTopology.STORE).stream()
                .map(StreamsMetadata::hostInfo).filter(h -> !h.equals(self)).distinct().toList();
    }

    private KafkaStreams kafkaStreams() {
        try {
            KafkaStreams kafkaStreams = streams.kafkaStreams();
            if (kafkaStreams.state() != KafkaStreams.State.RUNNING) {
                throw notReady();
            }
            return kafkaStreams;
        } catch (IllegalStateException e) {
            throw notReady();
        }
    }

    /**
     * One partition of a store; Kafka Streams refuses one this instance does not host (a 503). One whose task is not
     * running here (being restored: Kafka Streams would answer from it) is a 503 too.
     */
    private <V> ReadOnlyKeyValueStore<String, V> store(String name, int partition) {
        try {
            KafkaStreams kafkaStreams = kafkaStreams();
            requireRunning(partition);
            return kafkaStreams.store(StoreQueryParameters.fromNameAndType(name,
                    QueryableStoreTypes.<String, V>keyValueStore()).withPartition(partition));
        } catch (InvalidStateStoreException e) {
            throw notReady();
        }
    }

    /**
     * A 503 unless the partition's task runs here. Checked before a partition is read and again once it was: the store
     * handle reads through to whichever task holds the partition at each call, so a task corrupted during the read
     * (closed, its store wiped) went unseen. One closed and restored again within a single read would still pass, but
     * a restoration takes far longer than a read.
     */
    private void requireRunning(int partition) {
        if (!running.isRunning(partition)) {
            throw notReady();
        }
    }

    private static ApiProblem notReady() {
        return ApiProblem.unavailable("The credential store is not ready yet.", Duration.ofSeconds(1));
    }
}
