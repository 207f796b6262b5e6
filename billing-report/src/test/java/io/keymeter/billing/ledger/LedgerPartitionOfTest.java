package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.Totals;
import io.keymeter.platform.kafka.KafkaTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ledger instances without {@code application.server}, where Kafka Streams names no partition for a key: the
 * reports query the partition {@link KafkaTopics#partitionOf} computes over the repartition's count ({@link BillingTopology#SOURCES}), and it is the one the account's data is
 * in. The instance holding it answers; the other fails as not queryable (a 503), where a query of every local
 * partition answered it with nothing (an empty report, 200).
 */
@Timeout(180)
class LedgerPartitionOfTest {

    private static final int PARTITIONS = 6; // Keymeter's default, as LedgerOnBroker creates the topics

    @TempDir
    Path dataDir;

    private final List<KafkaStreams> instances = new ArrayList<>();

    @BeforeAll
    static void topics() throws Exception {
        LedgerOnBroker.createTopics();
    }

    @AfterEach
    void stop() {
        instances.forEach(streams -> streams.close(Duration.ofSeconds(10)));
    }

    @Test
    void theComputedPartitionHoldsTheAccountOnTheInstanceThatOwnsItAndOnNoOther() throws Exception {
        String name = "partition-of-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 2; i++) {
            instances.add(LedgerOnBroker.start(dataDir.resolve("instance-" + i), name, PriceCatalog.defaults("USD"),
                    Map.of()));
        }
        // one account in every partition, so that each instance owns some of them
        String[] byPartition = new String[PARTITIONS];
        for (int n = 0; Arrays.asList(byPartition).contains(null); n++) {
            String account = name + "-account-" + n;
            byPartition[KafkaTopics.partitionOf(account, PARTITIONS)] = account;
        }
        List<String> accounts = List.of(byPartition);
        for (int i = 0; i < accounts.size(); i++) {
            LedgerOnBroker.sendJanuaryUsage(accounts.get(i), "c1", 1, 10L + i);
        }

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .untilAsserted(() -> {
                    assertThat(instances).allSatisfy(streams ->
                            assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING));
                    for (int i = 0; i < accounts.size(); i++) {
                        assertThat(ownersOf(accounts.get(i))).as(accounts.get(i)).containsExactly(10L + i);
                    }
                });
        List<Integer> owners = new ArrayList<>();
        for (String account : accounts) {
            int owner = owner(account);
            owners.add(owner);
            KafkaStreams other = instances.get(1 - owner);
            assertThatThrownBy(() -> usage(other, account)).isInstanceOf(InvalidStateStoreException.class);
            assertThat(other.store(StoreQueryParameters.<ReadOnlyKeyValueStore<String, Totals>>fromNameAndType(
                    BillingTopology.USAGE_STORE, QueryableStoreTypes.keyValueStore())).get(usageKey(account)))
                    .as("every local partition, as the reports read before: nothing, and no sign of it").isNull();
        }
        assertThat(owners).as("both instances own accounts").contains(0, 1);
    }

    private int owner(String account) {
        for (int i = 0; i < instances.size(); i++) {
            try {
                if (usage(instances.get(i), account) != null) {
                    return i;
                }
            } catch (InvalidStateStoreException notHere) {
                // the other one
            }
        }
        throw new AssertionError("no instance holds " + account);
    }

    /** The account's units as each instance answers them from the computed partition, one entry per instance that does. */
    private List<Long> ownersOf(String account) {
        List<Long> answers = new ArrayList<>();
        for (KafkaStreams streams : instances) {
            try {
                Totals totals = usage(streams, account);
                if (totals != null) {
                    answers.add(totals.units().longValueExact());
                }
            } catch (InvalidStateStoreException notHere) {
                // not this instance's partition
            }
        }
        return answers;
    }

    private static Totals usage(KafkaStreams streams, String account) {
        return streams.store(StoreQueryParameters.<ReadOnlyKeyValueStore<String, Totals>>fromNameAndType(
                        BillingTopology.USAGE_STORE, QueryableStoreTypes.keyValueStore())
                .withPartition(KafkaTopics.partitionOf(account, PARTITIONS))).get(usageKey(account));
    }

    private static String usageKey(String account) {
        return StoreKeys.usage(account, "c1", "geocoding-stored", LocalDate.parse("2025-01-31"));
    }
}
