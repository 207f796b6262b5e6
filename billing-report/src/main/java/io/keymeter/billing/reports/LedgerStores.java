package io.keymeter.billing.reports;

import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

/**
 * Interactive queries of the billing ledger's stores. Every store is partitioned by accountId (the ledger reads a
 * repartition keyed by it), so one partition holds all of an account's data: the query goes to that partition.
 * This instance answers for the accounts whose partition it owns; with several instances the API forwards a request
 * to the owner found by {@link #remoteOwner(String)} (see the module README). Only a partition whose ledger task runs
 * here ({@link RunningPartitions}) is read: Kafka Streams 4.4 also answers a query from an active task being restored,
 * such as one restored from scratch after a corruption while its stream thread stays RUNNING, and a report then held
 * part of the usage.
 */
@Component
public class LedgerStores {

    private static final Serializer<String> KEYS = new StringSerializer();
    private static final Duration RETRY_AFTER = Duration.ofSeconds(5);

    private final StreamsApp streams;
    private final RunningPartitions running;
    private final int partitions;

    LedgerStores(@Qualifier("billingStreams") StreamsApp streams, KafkaTopics topics,
                 @Qualifier("billingRunningPartitions") RunningPartitions running) {
        this.streams = streams;
        this.running = running;
        this.partitions = BillingTopology.SOURCES.stream().mapToInt(topics::partitions).max().orElseThrow();
    }

    /**
     * The store's partition of one account. Kafka Streams names it only with {@code application.server} set; without
     * one, it is the partition the repartition sends the account to. A query without a partition read every local
     * partition, and an instance that did not hold the account answered an empty report. A partition not local
     * here fails as the store not being queryable ({@link #read}: 503), and so does one whose task is not running
     * here (being restored: Kafka Streams would answer from what is restored so far).
     */
    public <V> ReadOnlyKeyValueStore<String, V> store(String name, String accountId) {
        KafkaStreams kafkaStreams = streams.kafkaStreams();
        KeyQueryMetadata owner = kafkaStreams.queryMetadataForKey(name, accountId, KEYS);
        int partition = owner != null && owner.partition() >= 0 ? owner.partition()
                : KafkaTopics.partitionOf(accountId, partitions);
        if (!running.isRunning(partition)) {
            throw new InvalidStateStoreException("The ledger's task of partition " + partition + " is not running "
                    + "here (restoring, or moving); running: " + running.running());
        }
        return kafkaStreams.store(StoreQueryParameters.<ReadOnlyKeyValueStore<String, V>>fromNameAndType(name,
                QueryableStoreTypes.keyValueStore()).withPartition(partition));
    }

    /** This instance's {@code application.server} ({@code host:port}), or empty when none is configured. */
    public Optional<String> self() {
        String self = streams.config().getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG);
        return self == null || self.isBlank() ? Optional.empty() : Optional.of(self.trim());
    }

    /**
     * The instance that owns the account's partition when that is another instance. Needs
     * {@code application.server} on every instance (derived from the advertised host and {@code server.port}, or the
     * operator's {@code spring.kafka.streams.properties[application.server]}); without it, or while the owner is
     * unknown, empty: this instance answers from the account's partition if it holds it, else 503 ({@link #store}).
     */
    public Optional<HostInfo> remoteOwner(String accountId) {
        Optional<String> self = self();
        if (self.isEmpty() || !streams.isRunning()) {
            return Optional.empty();
        }
        KeyQueryMetadata owner;
        try {
            owner = streams.kafkaStreams().queryMetadataForKey(BillingTopology.USAGE_STORE, accountId, KEYS);
        } catch (IllegalStateException e) {
            return Optional.empty();
        }
        if (owner == null || owner.equals(KeyQueryMetadata.NOT_AVAILABLE) || owner.activeHost() == null
                || owner.activeHost().port() < 0) {
            return Optional.empty();
        }
        return owner.activeHost().equals(HostInfo.buildFromEndpoint(self.get())) ? Optional.empty()
                : Optional.of(owner.activeHost());
    }

    /**
     * Runs a read, answering 503 with {@code Retry-After} while the stores are not queryable (starting, restoring,
     * rebalancing, stopping): the caller retries, no report is ever answered from half a ledger. An
     * {@code IllegalStateException} while the ledger runs is a defect (a duplicate key in a collector, say), answered
     * 500 and logged: it used to be a 503 "starting" too, retried for ever.
     */
    public <T> T read(Supplier<T> read) {
        try {
            // a report reads several stores: a task closed (a corruption, a rebalance) while it read them may have
            // been reopened and restored from scratch under it, so such a read is answered 503 too, not from part
            long before = running.changes();
            T answer = read.get();
            if (running.changes() != before) {
                throw notAvailable();
            }
            return answer;
        } catch (InvalidStateStoreException e) {
            throw notAvailable();
        } catch (IllegalStateException e) {
            KafkaStreams.State state = streams.state();
            if (state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING) {
                throw e;
            }
            throw notAvailable(); // Kafka Streams not started, or stopping
        }
    }

    /** A 503 for a call forwarded here for an account this instance's metadata gives to another instance. */
    public static ApiProblem moving() {
        return ApiProblem.unavailable("This account's reports are moving between instances; try again shortly.",
                RETRY_AFTER);
    }

    private static ApiProblem notAvailable() {
        return ApiProblem.unavailable("Usage reports are not available yet (the billing ledger is starting or "
                + "rebalancing); try again shortly.", RETRY_AFTER);
    }
}
