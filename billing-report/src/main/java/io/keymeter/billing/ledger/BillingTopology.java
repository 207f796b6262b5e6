package io.keymeter.billing.ledger;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.cycles.StatementCalculator;
import io.keymeter.billing.cycles.Totals;
import io.keymeter.events.JsonSerde;
import io.keymeter.events.Statement;
import io.keymeter.events.Topics;
import io.keymeter.platform.streams.RunningPartitions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The billing ledger: usage-daily, credential names, attributable rejections and security alerts, re-keyed by
 * accountId through one named repartition (so one task owns an account), kept in stores that the reports read, and
 * settled into statements on {@code keymeter.billing-statements} by the ledger's wall-clock punctuator.
 *
 * <pre>
 * usage-daily ──────────► to input ─┐
 * credential-events ────► to input ─┤
 * rejections ─► filter ─► to input ─┼─► billing-by-account (repartition) ─► billing-ledger ─► billing-statements
 * security-alerts ──────► to input ─┘                                       (stores below)
 * </pre>
 */
public final class BillingTopology {

    /** The Kafka Streams application name: application id {@code keymeter-billing-report}. */
    public static final String APP_NAME = "billing-report";

    /** {@code accountId/cycle/credentialId/service/date} → latest {@link Totals} of that day. */
    public static final String USAGE_STORE = "billing-usage";
    /** {@code accountId/credentialId} → {@link CredentialInfo}. */
    public static final String CREDENTIALS_STORE = "billing-credentials";
    /** {@code accountId/cycle/credentialId} → rejected requests. */
    public static final String REJECTIONS_STORE = "billing-rejections";
    /** {@code accountId/cycle/credentialId/reason} → rejected requests for that reason. */
    public static final String REJECTION_REASONS_STORE = "billing-rejection-reasons";
    /** {@code accountId/cycle} → {@link CycleState}: closed or not, what was billed. */
    public static final String CYCLES_STORE = "billing-cycles";
    /** {@code dueAt/accountId/cycle} → {@code accountId/cycle}: cycles to close or adjust. */
    public static final String PENDING_STORE = "billing-pending";
    /** {@code accountId/cycle/credentialId/keyId/firstSeen} → the latest security alert of that run of uses. */
    public static final String ALERTS_STORE = "billing-security-alerts";
    /** {@code accountId/cycle/NNNN} → the statements issued. */
    public static final String STATEMENTS_STORE = "billing-statements";

    /** The repartition topic that co-locates everything of an account. */
    public static final String BY_ACCOUNT = "billing-by-account";

    /**
     * The topics the ledger reads: {@link #BY_ACCOUNT} has as many partitions as the largest of them, and its
     * producer sends an account by Kafka's default partitioner over the String key ({@code KafkaTopics.partitionOf}),
     * so that partition of every ledger store holds it.
     */
    public static final List<String> SOURCES = List.of(Topics.USAGE_DAILY.name(), Topics.CREDENTIAL_EVENTS.name(),
            Topics.REJECTIONS.name(), Topics.SECURITY_ALERTS.name());

    /** How often the ledger looks for cycles to close or adjust (wall clock). */
    public static final Duration CHECK_INTERVAL = Duration.ofSeconds(10);

    /**
     * The ledger's own Kafka Streams settings. Reports read the stores as committed: by default an interactive query
     * of a transactional store also reads the writes of the transaction under way, so a final statement staged by
     * the punctuator was listed by {@code /v1/statements} before it was committed, and a crash or fencing that
     * aborted it left a statement that was never issued, issued again later under the same id, possibly for
     * another amount. Committed reads lag the topic by one commit interval (100 ms by default).
     */
    public static Map<String, Object> streamsOverrides() {
        return Map.of(StreamsConfig.DEFAULT_INTERACTIVE_QUERY_ISOLATION_LEVEL_CONFIG,
                IsolationLevel.READ_COMMITTED.name());
    }

    static final Serde<BillingInput> INPUT_SERDE = new JsonSerde<>(BillingInput.class);

    private final PriceCatalog catalog;
    private final Duration closeGrace;
    private final Duration adjustmentInterval;
    private final Duration checkInterval;
    private final LedgerLimits limits;
    private final RunningPartitions running;

    public BillingTopology(PriceCatalog catalog, Duration closeGrace, Duration adjustmentInterval) {
        this(catalog, closeGrace, adjustmentInterval, new RunningPartitions());
    }

    /**
     * @param running where the ledger reports its task's partition as running (restored, initialized) or not: the
     *                reports read only a running partition ({@link #running()})
     */
    public BillingTopology(PriceCatalog catalog, Duration closeGrace, Duration adjustmentInterval,
                           RunningPartitions running) {
        this(catalog, closeGrace, adjustmentInterval, CHECK_INTERVAL, LedgerLimits.DEFAULTS, running);
    }

    /** With another punctuation interval: broker tests use a short one to keep their waits short. */
    public BillingTopology(PriceCatalog catalog, Duration closeGrace, Duration adjustmentInterval, Duration checkInterval) {
        this(catalog, closeGrace, adjustmentInterval, checkInterval, LedgerLimits.DEFAULTS);
    }

    /** With other limits on a punctuation's work: tests reach them with a few accounts instead of thousands. */
    BillingTopology(PriceCatalog catalog, Duration closeGrace, Duration adjustmentInterval, Duration checkInterval,
                    LedgerLimits limits) {
        this(catalog, closeGrace, adjustmentInterval, checkInterval, limits, new RunningPartitions());
    }

    private BillingTopology(PriceCatalog catalog, Duration closeGrace, Duration adjustmentInterval,
                            Duration checkInterval, LedgerLimits limits, RunningPartitions running) {
        this.catalog = catalog;
        this.closeGrace = closeGrace;
        this.adjustmentInterval = adjustmentInterval;
        this.checkInterval = checkInterval;
        this.limits = limits;
        this.running = running;
    }

    /**
     * The ledger's partitions whose task runs here: Kafka Streams 4.4 answers interactive queries from an active
     * task being restored (after a corruption, its stores wiped, while the stream thread stays RUNNING), so the
     * reports check this ({@code LedgerStores}).
     */
    public RunningPartitions running() {
        return running;
    }

    public Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        addStores(builder);

        KStream<String, BillingInput> usage = builder
                .stream(Topics.USAGE_DAILY.name(), Consumed.with(Topics.USAGE_DAILY.keySerde(), Topics.USAGE_DAILY.valueSerde())
                        .withName("billing-usage-daily-source"))
                .map(InputMappers::usage, Named.as("billing-usage-to-input"));
        KStream<String, BillingInput> names = builder
                .stream(Topics.CREDENTIAL_EVENTS.name(), Consumed.with(Topics.CREDENTIAL_EVENTS.keySerde(),
                        Topics.CREDENTIAL_EVENTS.valueSerde()).withName("billing-credential-events-source"))
                .flatMap(InputMappers::credential, Named.as("billing-credential-to-input"));
        KStream<String, BillingInput> rejected = builder
                .stream(Topics.REJECTIONS.name(), Consumed.with(Topics.REJECTIONS.keySerde(), Topics.REJECTIONS.valueSerde())
                        .withName("billing-rejections-source"))
                // unknown or malformed keys have no credential: they belong to no account's bill
                .filter(InputMappers::attributable, Named.as("billing-rejections-attributable"))
                .map(InputMappers::rejection, Named.as("billing-rejection-to-input"));

        KStream<String, BillingInput> alerts = builder
                .stream(Topics.SECURITY_ALERTS.name(), Consumed.with(Topics.SECURITY_ALERTS.keySerde(),
                        Topics.SECURITY_ALERTS.valueSerde()).withName("billing-security-alerts-source"))
                .map(InputMappers::alert, Named.as("billing-alert-to-input"));

        usage.merge(names, Named.as("billing-merge-names"))
                .merge(rejected, Named.as("billing-merge-rejections"))
                .merge(alerts, Named.as("billing-merge-alerts"))
                .repartition(Repartitioned.<String, BillingInput>as(BY_ACCOUNT)
                        .withKeySerde(Serdes.String()).withValueSerde(INPUT_SERDE))
                .process(() -> new LedgerProcessor(new StatementCalculator(catalog), closeGrace, adjustmentInterval,
                        checkInterval, limits, running),
                        Named.as("billing-ledger"), USAGE_STORE, CREDENTIALS_STORE, REJECTIONS_STORE,
                        REJECTION_REASONS_STORE, CYCLES_STORE, PENDING_STORE, STATEMENTS_STORE, ALERTS_STORE)
                .to(Topics.BILLING_STATEMENTS.name(), Produced.with(Topics.BILLING_STATEMENTS.keySerde(),
                        Topics.BILLING_STATEMENTS.valueSerde()).withName("billing-statements-sink"));
        return builder.build();
    }

    private static void addStores(StreamsBuilder builder) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(USAGE_STORE),
                Serdes.String(), new JsonSerde<>(Totals.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CREDENTIALS_STORE),
                Serdes.String(), new JsonSerde<>(CredentialInfo.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REJECTIONS_STORE),
                Serdes.String(), Serdes.Long()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REJECTION_REASONS_STORE),
                Serdes.String(), Serdes.Long()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CYCLES_STORE),
                Serdes.String(), new JsonSerde<>(CycleState.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PENDING_STORE),
                Serdes.String(), Serdes.String()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATEMENTS_STORE),
                Serdes.String(), Topics.BILLING_STATEMENTS.valueSerde()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ALERTS_STORE),
                Serdes.String(), Topics.SECURITY_ALERTS.valueSerde()));
    }
}
