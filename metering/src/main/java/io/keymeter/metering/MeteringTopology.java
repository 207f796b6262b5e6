package io.keymeter.metering;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Rejection;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.aggregation.RejectionCounter;
import io.keymeter.metering.aggregation.UsageAdder;
import io.keymeter.metering.alerts.StaleKeyAlerter;
import io.keymeter.metering.enforcement.Decision;
import io.keymeter.metering.enforcement.Deduplicator;
import io.keymeter.metering.enforcement.KeyStateChangeListener;
import io.keymeter.metering.enforcement.LatestKeyStates;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.metering.enforcement.RequestBounds;
import io.keymeter.metering.enforcement.RequestJudge;
import io.keymeter.metering.enforcement.RequestTimestampExtractor;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.VersionedBytesStoreSupplier;

/**
 * The metering topology: every request judged by its key's state at the request's own time, accepted usage
 * summed per account, credential, service and UTC day, rejections published and counted, stale keys alerted.
 * <pre>
 * api-keys ─ versioned store ─ changes ─ forget the judge's in-memory latest state of that key
 * requests ─ dedupe ─ judge(api-keys versioned store, as of request time, after grace) ─┬ accepted ─ by usage key ─ sum ─ usage-daily
 *                                                                           └ rejected ─ rejections
 *                                                                                      ├ by credential/day/reason ─ count (days kept as the key history)
 *                                                                                      └ invalidated/expired ─ alerts
 * </pre>
 */
public final class MeteringTopology {

    /** requestIds by generation (see {@link Deduplicator}); renamed from {@code metering-dedupe} with the key format. */
    public static final String DEDUPE_STORE = "metering-seen-requests";
    public static final String API_KEYS_STORE = "metering-api-keys";
    /** In memory, per task: the latest key states the judge read (see {@link LatestKeyStates}). */
    public static final String LATEST_KEY_STATES_STORE = "metering-latest-key-states";
    public static final String JOIN_BUFFER_STORE = "metering-join-buffer";
    /**
     * The join buffer's changelog: every live request leaves a record and a tombstone in it, and the in-memory store
     * is restored from all of it on every start. Segments roll every minute so compaction can drop the records of
     * judged requests, and tombstones are kept 10 minutes instead of the broker's day: a restart reads minutes of
     * live traffic instead of a day's. (A restore of a log this size takes seconds; it must finish within the
     * tombstone retention, or it could miss the tombstone of a request it has read and judge that request again.)
     */
    public static final Map<String, String> JOIN_BUFFER_CHANGELOG =
            rollingChangelog(Duration.ofMinutes(1), Duration.ofMinutes(10));
    public static final String USAGE_STORE = "metering-usage-daily";
    public static final String REJECTION_COUNTS_STORE = "metering-rejection-counts";
    /**
     * The rejection counts' changelog: its sweep deletes a day's counts once a day, so segments roll daily and
     * tombstones are kept a day (the broker's defaults kept every deleted count up to a week in an open segment).
     */
    public static final Map<String, String> REJECTION_COUNTS_CHANGELOG =
            rollingChangelog(Duration.ofDays(1), Duration.ofDays(1));
    public static final String ALERT_STORE = "metering-alert-state";
    /** Name of the usage repartition step (topic {@code keymeter-metering-usage-by-day-repartition}). */
    public static final String USAGE_REPARTITION = "usage-by-day";
    public static final String REJECTIONS_REPARTITION = "rejections-by-credential-day";
    /** {@code keymeter_metering_requests_total{outcome}}: what became of each request read (see {@link OutcomeCounters}). */
    public static final String REQUESTS_METRIC = "keymeter.metering.requests";
    public static final String ACCEPTED = "accepted";
    /** The outcome of a resend dropped by the dedupe. */
    public static final String DUPLICATE = "duplicate";

    private MeteringTopology() {
    }

    /**
     * The dedupe store's changelog: every request leaves a record in it and, once its generation has expired, a
     * tombstone (and each second of request time a record of the kept request time, compacted to its latest). With
     * the broker's defaults a segment rolls only at 1 GiB or after 7 days and tombstones stay a day, so a restore on a
     * new instance (or after a wipe) read days of puts and tombstones for the 1.5 to 2 windows of entries the store
     * holds. Segments roll every 1/24 of the window (at least a minute) and tombstones are kept as
     * long: compaction then drops swept entries within hours at the default window. A restore slower than that can
     * miss a tombstone and bring an expired entry back, which is harmless: lookups read only the two newest
     * generations, and the sweeper deletes it again.
     */
    public static Map<String, String> dedupeChangelog(Duration window) {
        Duration interval = Duration.ofMillis(Math.max(Duration.ofMinutes(1).toMillis(), window.toMillis() / 24));
        return rollingChangelog(interval, interval);
    }

    /**
     * Length of the key-state store's segments, fixed. Kafka derives it from the history retention (a 24th of it), and
     * a store reopened with another length does not find the history it holds: changing {@code keymeter.ingest.max-age}
     * or {@code max-future-skew} between restarts would have hidden every key's older states. This is the length the
     * default settings give (35 days + 5 minutes + the 1-day margin, over 24), so stores written before keep theirs.
     */
    public static final Duration KEY_HISTORY_SEGMENT = Duration.ofDays(36).plusMinutes(5).dividedBy(24);

    /** The versioned key-state store: history for {@code historyRetention}, segments {@link #KEY_HISTORY_SEGMENT} long. */
    public static VersionedBytesStoreSupplier keyStateStore(Duration historyRetention) {
        return Stores.persistentVersionedKeyValueStore(API_KEYS_STORE, historyRetention, KEY_HISTORY_SEGMENT);
    }

    /**
     * The key history's changelog: compaction must not drop a version the store may still be asked for, so the lag
     * before a record may be compacted covers the history retention plus a day (the value Kafka Streams would give a
     * versioned store's new changelog by itself). Set on the existing topic at every start, since it follows
     * {@code keymeter.ingest.max-age}.
     */
    public static Map<String, String> keyHistoryChangelog(Duration historyRetention) {
        return Map.of(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, String.valueOf(historyRetention.plusDays(1).toMillis()));
    }

    /**
     * The configs metering declares for its changelogs, by store: Kafka Streams gives them to a topic it creates,
     * Keymeter to an existing one before every start ({@code StreamsFactory}), so a changed setting reaches it.
     */
    public static Map<String, Map<String, String>> changelogConfigs(MeteringSettings settings) {
        return Map.of(DEDUPE_STORE, dedupeChangelog(settings.dedupeWindow()),
                JOIN_BUFFER_STORE, JOIN_BUFFER_CHANGELOG,
                API_KEYS_STORE, keyHistoryChangelog(settings.historyRetention()),
                REJECTION_COUNTS_STORE, REJECTION_COUNTS_CHANGELOG);
    }

    /** Changelog configs that let compaction drop deleted entries soon: segments roll and tombstones go after these. */
    private static Map<String, String> rollingChangelog(Duration segment, Duration tombstones) {
        return Map.of(TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(segment.toMillis()),
                TopicConfig.DELETE_RETENTION_MS_CONFIG, String.valueOf(tombstones.toMillis()));
    }

    /**
     * The topology; its request counters go to {@code registry}. Built without topology optimization on purpose: with
     * {@code reuse.ktable.source.topics} the key history's store would take {@code keymeter.api-keys} itself as its
     * changelog, and its reads would carry that topic's name, which
     * {@link io.keymeter.metering.enforcement.DecodedKeyStates} checks (only states read from the topic are).
     */
    public static Topology build(MeteringSettings settings, MeterRegistry registry) {
        StreamsBuilder builder = new StreamsBuilder();
        build(builder, settings, registry);
        return builder.build();
    }

    public static void build(StreamsBuilder builder, MeteringSettings settings, MeterRegistry registry) {
        OutcomeCounters outcomes = new OutcomeCounters(registry, REQUESTS_METRIC,
                "Requests metering read, by outcome: accepted, duplicate (a resend dropped) or the rejection reason",
                ACCEPTED, DUPLICATE);
        Runnable duplicate = () -> outcomes.count(DUPLICATE);
        builder.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(DEDUPE_STORE), MeteringSerdes.BYTES, MeteringSerdes.LONG)
                .withLoggingEnabled(dedupeChangelog(settings.dedupeWindow())));
        // bounded by join-grace worth of requests; changelogged, so a request waiting in it survives a crash
        builder.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(JOIN_BUFFER_STORE), MeteringSerdes.BYTES, MeteringSerdes.BUFFERED_REQUEST)
                .withLoggingEnabled(JOIN_BUFFER_CHANGELOG));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(ALERT_STORE), MeteringSerdes.STRING, MeteringSerdes.ALERT_STATE));
        builder.addStateStore(LatestKeyStates.builder(LATEST_KEY_STATES_STORE));

        // versioned: a request is judged by the key's state at its own timestamp, however late it arrives
        KTable<String, ApiKeyState> keyStates = builder.table(Topics.API_KEYS.name(),
                // the source's serde is the store's too (a source table keeps the Consumed serdes)
                Consumed.with(Topics.API_KEYS.keySerde(), MeteringSerdes.KEY_STATE).withName("api-keys-source"),
                Materialized.<String, ApiKeyState>as(keyStateStore(settings.historyRetention()))
                        .withKeySerde(Topics.API_KEYS.keySerde()).withValueSerde(MeteringSerdes.KEY_STATE)
                        .withLoggingEnabled(keyHistoryChangelog(settings.historyRetention())));
        // every stored key-state change, in the task that stores it: the judge's in-memory latest states forget it
        keyStates.toStream(Named.as("api-key-changes"))
                .process(() -> new KeyStateChangeListener(LATEST_KEY_STATES_STORE), Named.as("forget-latest-key-state"),
                        LATEST_KEY_STATES_STORE);

        KStream<String, Decision> decisions = builder.stream(Topics.REQUESTS.name(),
                        Consumed.with(Topics.REQUESTS.keySerde(), MeteringSerdes.ARRIVED_REQUEST)
                                .withTimestampExtractor(new RequestTimestampExtractor()).withName("requests-source"))
                .processValues(() -> new Deduplicator(DEDUPE_STORE, settings.dedupeWindow(),
                                settings.dedupeFilterCapacity(),
                                new RequestBounds(settings.maxFutureSkew(), settings.requestPartitions()), duplicate),
                        Named.as("dedupe-requests"), DEDUPE_STORE)
                .process(() -> new RequestJudge(API_KEYS_STORE, LATEST_KEY_STATES_STORE, JOIN_BUFFER_STORE,
                                settings.joinGrace(), outcomes),
                        Named.as("judge-request"), API_KEYS_STORE, LATEST_KEY_STATES_STORE, JOIN_BUFFER_STORE);

        Map<String, KStream<String, Decision>> outcome = decisions.split(Named.as("outcome-"))
                .branch((keyId, decision) -> decision.accepted(), Branched.as("accepted"))
                .defaultBranch(Branched.as("rejected"));

        outcome.get("outcome-accepted")
                .map((keyId, decision) -> usageOf(decision), Named.as("usage-delta"))
                .groupByKey(Grouped.with(USAGE_REPARTITION, Topics.USAGE_DAILY.keySerde(), MeteringSerdes.USAGE))
                .reduce(new UsageAdder(), Named.as("sum-usage"),
                        Materialized.<String, UsageDaily, KeyValueStore<Bytes, byte[]>>as(USAGE_STORE)
                                .withKeySerde(Topics.USAGE_DAILY.keySerde()).withValueSerde(MeteringSerdes.USAGE))
                .toStream(Named.as("usage-totals"))
                .to(Topics.USAGE_DAILY.name(), Produced.with(Topics.USAGE_DAILY.keySerde(), Topics.USAGE_DAILY.valueSerde())
                        .withName("usage-daily-sink"));

        KStream<String, Decision> rejected = outcome.get("outcome-rejected");
        KStream<String, Rejection> rejections = rejected.mapValues(Decision::rejection, Named.as("to-rejection"));
        rejections.to(Topics.REJECTIONS.name(),
                Produced.with(Topics.REJECTIONS.keySerde(), Topics.REJECTIONS.valueSerde()).withName("rejections-sink"));
        // the store and repartition topic a DSL groupBy().count() made before, same names and formats: kept counts
        // carry on (RejectionCounter forgets old days, which the DSL count could not)
        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(
                Stores.persistentTimestampedKeyValueStore(REJECTION_COUNTS_STORE), MeteringSerdes.STRING, MeteringSerdes.LONG)
                .withCachingEnabled().withLoggingEnabled(REJECTION_COUNTS_CHANGELOG));
        rejections
                .selectKey((keyId, rejection) -> RejectionCounter.keyOf(rejection), Named.as("rejection-count-key"))
                .repartition(Repartitioned.<String, Rejection>as(REJECTIONS_REPARTITION)
                        .withKeySerde(Topics.REJECTIONS.keySerde()).withValueSerde(Topics.REJECTIONS.valueSerde()))
                .process(() -> new RejectionCounter(REJECTION_COUNTS_STORE, settings.historyRetention()),
                        Named.as("count-rejections"), REJECTION_COUNTS_STORE);
        rejected
                .filter((keyId, decision) -> StaleKeyAlerter.concerns(decision, settings.alertGrace()),
                        Named.as("stale-key-uses"))
                .mapValues(Decision::rejection, Named.as("stale-key-use-rejection"))
                .process(() -> new StaleKeyAlerter(ALERT_STORE, settings.alertInterval(),
                                settings.historyRetention()), Named.as("alert-stale-keys"),
                        ALERT_STORE)
                .to(Topics.SECURITY_ALERTS.name(),
                        Produced.with(Topics.SECURITY_ALERTS.keySerde(), Topics.SECURITY_ALERTS.valueSerde())
                                .withName("security-alerts-sink"));
    }

    /** UTC day of an instant-stamped request. */
    public static LocalDate dayOf(RequestLog request) {
        return LocalDate.ofInstant(request.timestamp(), ZoneOffset.UTC);
    }

    private static KeyValue<String, UsageDaily> usageOf(Decision decision) {
        RequestLog request = decision.request();
        UsageDaily usage = new UsageDaily(decision.accountId(), decision.credentialId(), request.service(),
                dayOf(request), 1, request.units());
        return KeyValue.pair(usage.key(), usage);
    }
}
