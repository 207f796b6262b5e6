package io.keymeter.billing.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reports read only a partition whose ledger task runs here ({@link RunningPartitions}): Kafka Streams 4.4, its
 * stream thread RUNNING, hands out the stores of an active task still being restored (after a corruption: closed
 * dirty, the stores wiped, restored from scratch), and a report read from them held part of the usage, with 200.
 */
class LedgerStoresTest {

    private static final int PARTITIONS = 6;

    private final RunningPartitions running = new RunningPartitions();
    private LedgerStores stores;

    @BeforeEach
    @SuppressWarnings("unchecked")
    void setUp() {
        // what a half-restored store holds: Kafka Streams answers from it as from any other
        ReadOnlyKeyValueStore<String, Long> partial = mock(ReadOnlyKeyValueStore.class);
        when(partial.get(anyString())).thenReturn(3L);
        KafkaStreams kafkaStreams = mock(KafkaStreams.class);
        when(kafkaStreams.state()).thenReturn(KafkaStreams.State.RUNNING);
        when(kafkaStreams.store(any())).thenReturn(partial);
        StreamsApp streams = mock(StreamsApp.class);
        when(streams.kafkaStreams()).thenReturn(kafkaStreams);
        when(streams.state()).thenReturn(KafkaStreams.State.RUNNING);
        when(streams.config()).thenReturn(new Properties());
        KafkaTopics topics = mock(KafkaTopics.class);
        when(topics.partitions(anyString())).thenReturn(PARTITIONS);
        stores = new LedgerStores(streams, topics, running);
    }

    @Test
    void anAccountWhosePartitionsTaskIsNotRunningIsA503NotPartOfItsUsage() {
        int partition = KafkaTopics.partitionOf("acme", PARTITIONS);

        assertNotAvailable(() -> read("acme"));

        RunningPartitions.Registration task = running.started(partition);
        assertThat(read("acme")).isEqualTo(3L);

        // corrupted: closed dirty (its processors closed), its stores wiped and being restored again
        task.close();
        assertNotAvailable(() -> read("acme"));
    }

    @Test
    void otherPartitionsRunningDoNotMakeTheAccountsReadable() {
        int partition = KafkaTopics.partitionOf("acme", PARTITIONS);
        running.started((partition + 1) % PARTITIONS);

        assertNotAvailable(() -> read("acme"));
    }

    /**
     * A task closed and started again while a report read its stores (corrupted, its stores wiped and reopened under
     * the read): the report is a 503, though the partition runs again by the time the read ends.
     */
    @Test
    void aReadDuringWhichATaskClosedIsA503() {
        int partition = KafkaTopics.partitionOf("acme", PARTITIONS);
        RunningPartitions.Registration[] task = {running.started(partition)};

        assertNotAvailable(() -> stores.read(() -> {
            Long first = stores.<Long>store(BillingTopology.REJECTIONS_STORE, "acme").get("any key");
            task[0].close();
            task[0] = running.started(partition);
            return first + stores.<Long>store(BillingTopology.REJECTIONS_STORE, "acme").get("another key");
        }));
        assertThat(read("acme")).as("read again once nothing changes under it").isEqualTo(3L);
    }

    /**
     * Without {@code application.server} the account's partition is the one the repartition sends it to, counted over
     * the largest source topic (the repartition topic has as many partitions): read there, and nowhere else.
     */
    @Test
    @SuppressWarnings("unchecked")
    void withoutAnOwnerNamedTheAccountsPartitionIsCountedOverTheLargestSource() {
        String account = IntStream.range(0, 100).mapToObj(i -> "account-" + i)
                .filter(a -> KafkaTopics.partitionOf(a, 12) != KafkaTopics.partitionOf(a, 3)
                        && KafkaTopics.partitionOf(a, 12) != KafkaTopics.partitionOf(a, 6))
                .findFirst().orElseThrow();
        KafkaTopics topics = mock(KafkaTopics.class);
        when(topics.partitions(anyString())).thenReturn(3);
        when(topics.partitions(BillingTopology.SOURCES.get(BillingTopology.SOURCES.size() - 1))).thenReturn(12);
        when(topics.partitions(BillingTopology.SOURCES.get(0))).thenReturn(6);
        KafkaStreams kafkaStreams = onlyPartitionAnswers(KafkaTopics.partitionOf(account, 12));
        for (int p = 0; p < 12; p++) {
            running.started(p);
        }
        LedgerStores sized = new LedgerStores(app(kafkaStreams), topics, running);

        assertThat(sized.read(() -> sized.<Long>store(BillingTopology.REJECTIONS_STORE, account).get("k")))
                .isEqualTo(3L);
    }

    /** With {@code application.server}, the partition Kafka Streams names for the key is the one read. */
    @Test
    @SuppressWarnings("unchecked")
    void aPartitionKafkaStreamsNamesIsTheOneRead() {
        int named = (KafkaTopics.partitionOf("acme", PARTITIONS) + 1) % PARTITIONS;
        KafkaStreams kafkaStreams = onlyPartitionAnswers(named);
        when(kafkaStreams.queryMetadataForKey(eq(BillingTopology.REJECTIONS_STORE), eq("acme"), any(Serializer.class)))
                .thenReturn(new KeyQueryMetadata(new HostInfo("localhost", 8080), Set.of(), named));
        KafkaTopics topics = mock(KafkaTopics.class);
        when(topics.partitions(anyString())).thenReturn(PARTITIONS);
        running.started(named);
        LedgerStores owned = new LedgerStores(app(kafkaStreams), topics, running);

        assertThat(owned.read(() -> owned.<Long>store(BillingTopology.REJECTIONS_STORE, "acme").get("k")))
                .isEqualTo(3L);
    }

    /** Kafka Streams whose store answers for {@code partition} only, as an instance holding just that one would. */
    @SuppressWarnings("unchecked")
    private static KafkaStreams onlyPartitionAnswers(int partition) {
        ReadOnlyKeyValueStore<String, Long> store = mock(ReadOnlyKeyValueStore.class);
        when(store.get(anyString())).thenReturn(3L);
        KafkaStreams kafkaStreams = mock(KafkaStreams.class);
        when(kafkaStreams.state()).thenReturn(KafkaStreams.State.RUNNING);
        when(kafkaStreams.store(any())).thenAnswer(call -> {
            StoreQueryParameters<?> parameters = call.getArgument(0);
            if (parameters.partition() == null || parameters.partition() != partition) {
                throw new InvalidStateStoreException("partition " + parameters.partition() + " is not here");
            }
            return store;
        });
        return kafkaStreams;
    }

    private static StreamsApp app(KafkaStreams kafkaStreams) {
        StreamsApp streams = mock(StreamsApp.class);
        when(streams.kafkaStreams()).thenReturn(kafkaStreams);
        when(streams.state()).thenReturn(KafkaStreams.State.RUNNING);
        when(streams.config()).thenReturn(new Properties());
        return streams;
    }

    private Long read(String accountId) {
        return stores.read(() -> stores.<Long>store(BillingTopology.REJECTIONS_STORE, accountId).get("any key"));
    }

    private static void assertNotAvailable(Runnable read) {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, read::run);
        assertThat(problem).as("a 503, not a report from a partition not running here").isNotNull();
        assertThat(problem.status()).isEqualTo(503);
        assertThat(problem.retryAfter()).isEqualTo(Duration.ofSeconds(5));
        assertThat(problem.getMessage()).startsWith("Usage reports are not available yet");
    }
}
