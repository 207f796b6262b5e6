package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads answer only from a partition whose task runs here ({@link RunningPartitions}). Kafka Streams 4.4, its stream
 * thread RUNNING, hands out the store of an active task still being restored (after a corruption: closed dirty, the
 * store wiped, restored from scratch); these stand-in stores are what such a store would hold, read as Kafka Streams
 * would serve them.
 */
class CredentialReadsTest {

    private static final int PARTITIONS = 6;
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private final RunningPartitions running = new RunningPartitions();
    /** The partition of the credentials these tests store ({@code cred-1}); the others hold none. */
    private static final int PARTITION = KafkaTopics.partitionOf("cred-1", PARTITIONS);

    private final MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    private KeyValueStore<String, Credential> credentials;
    private KeyValueStore<String, String> accountIndex;
    private CredentialReads reads;

    @BeforeEach
    void setUp() {
        credentials = store(CredentialTopology.STORE, CredentialTopics.CREDENTIAL_SERDE);
        accountIndex = store(CredentialTopology.ACCOUNT_INDEX, Serdes.String());
        KeyValueStore<String, Credential> noCredentials = store(CredentialTopology.STORE, CredentialTopics.CREDENTIAL_SERDE);
        KeyValueStore<String, String> noIndex = store(CredentialTopology.ACCOUNT_INDEX, Serdes.String());

        KafkaStreams kafkaStreams = mock(KafkaStreams.class);
        when(kafkaStreams.state()).thenReturn(KafkaStreams.State.RUNNING);
        // Kafka Streams answers for any partition of the store it hosts, an active task's being restored included
        when(kafkaStreams.store(any())).thenAnswer(call -> {
            StoreQueryParameters<?> parameters = call.getArgument(0);
            boolean ours = parameters.partition() == PARTITION;
            return parameters.storeName().equals(CredentialTopology.STORE) ? ours ? credentials : noCredentials
                    : ours ? accountIndex : noIndex;
        });
        StreamsApp streams = mock(StreamsApp.class);
        when(streams.kafkaStreams()).thenReturn(kafkaStreams);
        when(streams.config()).thenReturn(new Properties()); // one instance: no application.server
        KafkaTopics topics = mock(KafkaTopics.class);
        when(topics.partitions(anyString())).thenReturn(PARTITIONS);
        reads = new CredentialReads(streams, topics, running);
    }

    @Test
    void aCredentialOfAPartitionWhoseTaskIsNotRunningIsA503NotA404() {
        Credential credential = stored("cred-1", "acme");
        int partition = PARTITION;

        assertNotReady(() -> reads.find("acme", "cred-1"));

        RunningPartitions.Registration task = running.started(partition);
        assertThat(reads.find("acme", "cred-1")).contains(credential.withoutSecrets());

        // corrupted: closed dirty (its processors closed), its store wiped and being restored again
        task.close();
        credentials.delete("cred-1");
        assertNotReady(() -> reads.find("acme", "cred-1"));
        assertNotReady(() -> reads.find("acme", "another-credential-of-that-partition-or-not"));
    }

    @Test
    void aListWithAPartitionWhoseTaskIsNotRunningIsA503NotAListWithoutItsCredentials() {
        Credential credential = stored("cred-1", "acme");
        int partition = PARTITION;
        List<RunningPartitions.Registration> others = IntStream.range(0, PARTITIONS).filter(p -> p != partition)
                .mapToObj(running::started).toList();

        assertNotReady(() -> reads.list("acme"));

        RunningPartitions.Registration task = running.started(partition);
        assertThat(reads.list("acme").credentials()).containsExactly(credential.withoutSecrets());

        task.close();
        assertNotReady(() -> reads.list("acme"));
        others.forEach(RunningPartitions.Registration::close);
    }

    private <V> KeyValueStore<String, V> store(String name, Serde<V> values) {
        KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name),
                Serdes.String(), values).withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        return store;
    }

    private Credential stored(String id, String accountId) {
        Credential credential = new Credential(id, accountId, "name", List.of(), List.of(), List.of(), List.of(), T0,
                T0, 1);
        credentials.put(id, credential);
        accountIndex.put(accountId + "/" + id, id);
        return credential;
    }

    private static void assertNotReady(Runnable read) {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, read::run);
        assertThat(problem).as("a 503, not an answer from a partition not running here").isNotNull();
        assertThat(problem.status()).isEqualTo(503);
        assertThat(problem.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(problem.getMessage()).contains("The credential store is not ready yet.");
    }
}
