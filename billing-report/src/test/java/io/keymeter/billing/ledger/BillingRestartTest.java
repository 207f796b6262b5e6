package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.billing.catalog.CatalogProperties;
import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.events.Statement;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.streams.CloseOptions;
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
 * Restarts and state loss on a real broker: TopologyTestDriver cannot show them, because closing it deletes its
 * state directory. The production topology and configuration (short punctuation interval) run as a real Kafka
 * Streams application; its local state is wiped between runs, so the second run must restore what was issued from
 * the changelogs, as a new owner after a rebalance would.
 */
@Timeout(200) // each test; its waits have bounds for a loaded machine of their own
class BillingRestartTest {

    @TempDir
    Path dataDir;

    private final String account = "restart-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<KafkaStreams> started = new ArrayList<>();

    @BeforeAll
    static void topics() throws Exception {
        LedgerOnBroker.createTopics();
    }

    @AfterEach
    void stop() {
        started.forEach(s -> s.close(Duration.ofSeconds(10)));
    }

    private KafkaStreams start() {
        return start(PriceCatalog.defaults("USD"));
    }

    private KafkaStreams start(PriceCatalog catalog) {
        KafkaStreams streams = LedgerOnBroker.start(dataDir, "billing-restart-" + account, catalog, Map.of());
        started.add(streams);
        return streams;
    }

    private void send(String credential, long requests, long units) throws Exception {
        LedgerOnBroker.sendJanuaryUsage(account, credential, requests, units);
    }

    private List<Statement> statementsOfAccount() {
        return LedgerOnBroker.committedStatements(account);
    }

    @Test
    void aRestartWithLostLocalStateIssuesNoStatementTwiceAndLaterUsageIsAnAdjustment() throws Exception {
        KafkaStreams first = start();
        send("c1", 10, 1000); // January 2025 closed long ago on the wall clock: billed at the next punctuation

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).extracting(Statement::statementId)
                        .containsExactly(account + "-2025-01-final"));

        assertThat(first.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(20)))).as("closed in time, so its state directory can be wiped").isTrue();
        first.cleanUp(); // the next run must restore the ledger from its changelogs
        start();
        send("c1", 12, 1250);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).extracting(Statement::statementId)
                        .containsExactlyInAnyOrder(account + "-2025-01-final", account + "-2025-01-adj-1"));
        Statement adjustment = statementsOfAccount().stream()
                .filter(s -> s.statementId().equals(account + "-2025-01-adj-1")).findFirst().orElseThrow();
        assertThat(adjustment.kind()).isEqualTo("adjustment");
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("1.00"));
        assertThat(adjustment.lines()).singleElement().satisfies(line -> assertThat(line.units()).isEqualTo(250));
    }

    @Test
    void usageArrivingAfterACatalogChangeIsBilledAtThePricesTheCycleClosedWith() throws Exception {
        KafkaStreams first = start(); // geocoding-stored at 4.00 per 1,000
        send("c1", 1, 1000);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).extracting(Statement::amountDue)
                        .containsExactly(new BigDecimal("4.00")));
        first.close(Duration.ofSeconds(20));

        // the operator raises the price; the late usage of the closed cycle is still billed at 4.00
        KafkaStreams second = start(PriceCatalog.of("USD", List.of(
                new CatalogProperties.ServiceEntry("geocoding-stored", null, new BigDecimal("5.00"), 0L))));
        send("c1", 2, 2000);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).hasSize(2));
        Statement adjustment = statementsOfAccount().stream().filter(s -> s.kind().equals("adjustment")).findFirst()
                .orElseThrow(); // statements are keyed by id, so the topic's partitions do not keep their order
        assertThat(adjustment.statementId()).isEqualTo(account + "-2025-01-adj-1");
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("4.00")); // not 2,000 at 5.00 minus 4.00
        assertThat(adjustment.lines()).singleElement().satisfies(line ->
                assertThat(line.pricePer1000()).isEqualTo(new BigDecimal("4.00")));
        // the store commits just after the transaction that put the statement on the topic
        await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(InvalidStateStoreException.class)
                .untilAsserted(() -> { // a store not queryable for a moment while a task is (re)assigned
            CycleState cycle = second.<ReadOnlyKeyValueStore<String, CycleState>>store(
                            StoreQueryParameters.fromNameAndType(BillingTopology.CYCLES_STORE,
                                    QueryableStoreTypes.keyValueStore()))
                    .get(StoreKeys.cycle(account, BillingCycle.parse("2025-01").orElseThrow()));
            assertThat(cycle).isNotNull();
            assertThat(cycle.prices()).isEqualTo(PriceCatalog.defaults("USD").prices());
        });
    }
}
