package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.events.Statement;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.Transactions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reports read the ledger's stores as committed ({@link BillingTopology#streamsOverrides}): a final statement
 * the punctuator has staged but not yet committed is not listed, since an abort (a crash, a fencing) would take it
 * back and it would be issued again later, possibly for another amount. On a real broker, with the production
 * configuration and a long commit interval so that a staged transaction stays open for seconds.
 */
@Timeout(120)
class LedgerReadIsolationTest {

    /** Long enough that a statement staged by the punctuator stays uncommitted while the test looks. */
    private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(10);
    private static final BillingCycle JANUARY = BillingCycle.parse("2025-01").orElseThrow();

    @TempDir
    Path dataDir;

    private KafkaStreams streams;

    @BeforeAll
    static void topics() throws Exception {
        LedgerOnBroker.createTopics();
    }

    @AfterEach
    void stop() {
        if (streams != null) {
            streams.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void aStatementStagedButNotCommittedIsNotReadUntilItsTransactionCommits() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        streams = LedgerOnBroker.start(dataDir, "isolation-" + suffix, PriceCatalog.defaults("USD"), Map.of(
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, COMMIT_INTERVAL.toMillis(),
                StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
                (int) COMMIT_INTERVAL.multipliedBy(6).toMillis()));
        // a commit can fall between the two reads; then the attempt tells nothing and another account tries again
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                SharedKafka.bootstrapServers()))) {
            isolatedReadOfAStagedStatement(admin, suffix);
        }
    }

    private void isolatedReadOfAStagedStatement(Admin admin, String suffix) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            String account = "isolation-" + suffix + "-" + attempt;
            String key = StoreKeys.statement(account, JANUARY, 0);
            LedgerOnBroker.sendJanuaryUsage(account, "c1", 3, 300); // the next punctuation stages the final

            AtomicLong notYetStagedAt = new AtomicLong(-1);
            Statement staged = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .until(() -> {
                        long before = System.currentTimeMillis();
                        Statement found = uncommitted(key);
                        if (found == null) {
                            notYetStagedAt.set(before);
                        }
                        return found;
                    }, s -> s != null);
            Statement read = reportView().get(key);
            // one stream thread, one transaction at a time: one open since before the statement was staged and still
            // open after the read staged it and was open at the read. Else (committed or committing since, or staged
            // before the first look) the attempt tells nothing. Asked of the coordinator: the topic shows a commit
            // only once its markers are written, a moment later
            if (notYetStagedAt.get() < 0
                    || !openSince(admin, StreamsFactory.applicationId("isolation-" + suffix) + "-", notYetStagedAt.get())) {
                continue;
            }
            assertThat(staged.statementId()).isEqualTo(account + "-2025-01-final");
            assertThat(read).as("a staged statement of a transaction still open, read as the reports read")
                    .isNull();

            await().atMost(COMMIT_INTERVAL.multipliedBy(3)).untilAsserted(() ->
                    assertThat(reportView().get(key)).as("read once its transaction committed").isEqualTo(staged));
            // the store commits once the coordinator has logged the commit, the topic once the markers are written
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(LedgerOnBroker.committedStatements(account)).containsExactly(staged));
            return;
        }
        throw new AssertionError("every attempt's statement was committed between the two reads");
    }

    /**
     * Whether a transaction of the application whose transactional ids start with {@code prefix} is in progress at
     * its coordinator and began no later than {@code since}: then what it staged before {@code since} was still
     * uncommitted a moment before this question.
     */
    private static boolean openSince(Admin admin, String prefix, long since) throws Exception {
        Set<String> ids = Transactions.ids(admin).stream().filter(id -> id.startsWith(prefix))
                .collect(Collectors.toSet());
        return Transactions.inProgress(admin, ids).stream().anyMatch(t -> t.startMs() <= since);
    }

    /** How {@code LedgerStores} reads: IQv1, which always uses the application's configured isolation level. */
    private ReadOnlyKeyValueStore<String, Statement> reportView() {
        return streams.store(StoreQueryParameters.fromNameAndType(BillingTopology.STATEMENTS_STORE,
                QueryableStoreTypes.keyValueStore()));
    }

    /** The store as it stands in the open transaction (IQv2 lets one query ask for that). */
    private Statement uncommitted(String key) {
        if (streams.state() != KafkaStreams.State.RUNNING) {
            return null;
        }
        StateQueryRequest<Statement> request = StateQueryRequest.inStore(BillingTopology.STATEMENTS_STORE)
                .withQuery(KeyQuery.<String, Statement>withKey(key))
                .withIsolationLevel(IsolationLevel.READ_UNCOMMITTED);
        return streams.query(request).getPartitionResults().values().stream()
                .filter(QueryResult::isSuccess).map(QueryResult::getResult)
                .filter(s -> s != null).findFirst().orElse(null);
    }
}
