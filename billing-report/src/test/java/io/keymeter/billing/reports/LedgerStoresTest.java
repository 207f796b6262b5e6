package io.keymeter.billing.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
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
