package io.keymeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Json;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.KeyFixtures.TestKey;
import io.keymeter.metering.alerts.AlertState;
import io.keymeter.metering.enforcement.Deduplicator;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.metering.enforcement.RequestBounds;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TopologyNames;
import java.nio.charset.StandardCharsets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The production metering topology with the production Streams configuration, driven record by record. */
class MeteringTopologyTest {

    private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");
    private static final Instant EXPIRES = T0.plus(Duration.ofDays(30));
    private static final String ACME = "acme";

    @TempDir
    Path dataDir;

    private KeymeterProperties properties;
    private MeteringSettings settings;
    private TopologyTestDriver driver;
    private TestInputTopic<String, RequestLog> requests;
    private TestInputTopic<String, ApiKeyState> keys;
    private TestOutputTopic<String, UsageDaily> usage;
    private TestOutputTopic<String, Rejection> rejections;
    private TestOutputTopic<String, SecurityAlert> alerts;
    private MeteringTopics topics;
    private int ticks;
    /** How often the judge checks the wall clock ({@code RequestJudge.WALL_CLOCK_CHECK}). */
    private static final long WALL_CLOCK_CHECK_MS = 500;
    /** The driver's wall clock: it starts at T0 and only {@link #advanceClock} moves it. */
    private Instant clock = T0;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void startDriver() {
        startDriver(1); // one partition a topic, as the driver has
    }

    /** The driver reads partition 0 of every topic: with more partitions, keyIds of the others belong elsewhere. */
    private void startDriver(int requestPartitions) {
        properties = new KeymeterProperties(List.of("all"), dataDir, null, null, null, null, null, null, null, null, null);
        settings = MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, requestPartitions);
        Properties config = StreamsFactory.config(Map.of("bootstrap.servers", "unused:9092"), properties,
                MeteringConfiguration.APP_NAME, Map.of());
        // the wall clock starts at T0: requests are live traffic, not a backlog (see the backlog test)
        driver = new TopologyTestDriver(MeteringTopology.build(settings, registry), config, T0);
        topics = new MeteringTopics(driver);
        requests = topics.requests;
        keys = topics.keys;
        usage = topics.usage;
        rejections = topics.rejections;
        alerts = topics.alerts;
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    // --- accepted usage -------------------------------------------------------------------------------------

    @Test
    void acceptedRequestsAreSummedPerCredentialServiceAndUtcDay() {
        TestKey key = publish(TestKey.create(ACME, "cred-1", 1), KeyStatus.ACTIVE, T0);
        send(key.request("r1", KeyFixtures.BASEMAPS, 3, T0.plusSeconds(60)),
                key.request("r2", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(120)),
                key.request("r3", KeyFixtures.GEOCODING, 7, T0.plusSeconds(180)),
                key.request("r4", KeyFixtures.BASEMAPS, 1, Instant.parse("2026-11-02T00:00:00Z")));
        flush(Instant.parse("2026-11-02T00:00:00Z"));

        Map<String, UsageDaily> totals = latestUsage();
        assertThat(totals).containsOnlyKeys(
                UsageDaily.key(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 1)),
                UsageDaily.key(ACME, "cred-1", "geocoding", LocalDate.of(2026, 11, 1)),
                UsageDaily.key(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 2)));
        assertThat(totals.get(UsageDaily.key(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 1), 2, 5));
        assertThat(totals.get(UsageDaily.key(ACME, "cred-1", "geocoding", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-1", "geocoding", LocalDate.of(2026, 11, 1), 1, 7));
        assertThat(totals.get(UsageDaily.key(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 2))))
                .isEqualTo(new UsageDaily(ACME, "cred-1", "basemaps", LocalDate.of(2026, 11, 2), 1, 1));
        assertThat(realRejections()).isEmpty();
        assertNothingDropped();
    }

    @Test
    void bothSlotsOfACredentialAddUpToOneTotal() {
        TestKey slot1 = publish(TestKey.create(ACME, "cred-2", 1), KeyStatus.ACTIVE, T0);
        TestKey slot2 = publish(TestKey.create(ACME, "cred-2", 2), KeyStatus.ACTIVE, T0);
        send(slot1.request("a", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(10)),
                slot2.request("b", KeyFixtures.BASEMAPS, 4, T0.plusSeconds(20)));
        flush(T0.plusSeconds(20));

        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-2", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-2", "basemaps", LocalDate.of(2026, 11, 1), 2, 5));
        assertNothingDropped();
    }

    // --- dedupe ------------------------------------------------------------------------------------------------

    @Test
    void aResentRequestIsCountedOnce() {
        TestKey key = publish(TestKey.create(ACME, "cred-3", 1), KeyStatus.ACTIVE, T0);
        RequestLog request = key.request("same-id", KeyFixtures.BASEMAPS, 5, T0.plusSeconds(30));
        send(request, request, key.request("other-id", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(31)), request);
        flush(T0.plusSeconds(31));

        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-3", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-3", "basemaps", LocalDate.of(2026, 11, 1), 2, 6));
        assertThat(outcomeCount(MeteringTopology.DUPLICATE)).as("the resends dropped are counted").isEqualTo(2);
        assertThat(outcomeCount(MeteringTopology.ACCEPTED)).isEqualTo(2);
        assertNothingDropped();
    }

    @Test
    void theSameRequestIdSentForTwoKeysIsBilledForBoth() {
        TestKey first = publish(TestKey.create(ACME, "cred-3d", 1), KeyStatus.ACTIVE, T0);
        TestKey second = publish(TestKey.create(ACME, "cred-3e", 1), KeyStatus.ACTIVE, T0);
        send(first.request("gateway-counter-7", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(30)),
                second.request("gateway-counter-7", KeyFixtures.BASEMAPS, 3, T0.plusSeconds(31)));
        flush(T0.plusSeconds(31));

        Map<String, UsageDaily> totals = latestUsage();
        assertThat(totals.get(UsageDaily.key(ACME, "cred-3d", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-3d", "basemaps", LocalDate.of(2026, 11, 1), 1, 2));
        assertThat(totals.get(UsageDaily.key(ACME, "cred-3e", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-3e", "basemaps", LocalDate.of(2026, 11, 1), 1, 3));
        assertNothingDropped();
    }

    @Test
    void aBacklogOlderThanTheGraceByTheWallClockIsJudgedAtOnce() {
        TestKey key = publish(TestKey.create(ACME, "cred-backlog", 1), KeyStatus.ACTIVE, T0);
        advanceClock(Duration.ofHours(1)); // metering catching up an hour behind
        send(key.request("old", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(5)));

        // no later request, no punctuation: judged on arrival, nothing waits in the join buffer
        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-backlog", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-backlog", "basemaps", LocalDate.of(2026, 11, 1), 1, 2));
        assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries()).isZero();
        assertNothingDropped();
    }

    /**
     * Streams takes an empty key-state partition for read to its end by the lag of its last fetch: a key state
     * appended just before backlog requests that use it can be read after them. Such a request is held the grace by
     * the wall clock (in the buffer store, so a crash keeps it) and judged by the state read meanwhile.
     */
    @Test
    void aBacklogRequestReadJustBeforeItsKeysStateIsJudgedByThatState() {
        advanceClock(Duration.ofHours(1)); // metering catching up an hour behind
        TestKey key = TestKey.create(ACME, "cred-raced", 1);
        RequestLog request = key.request("raced", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(5));
        requests.pipeInput(key.keyId(), request, clock); // read before the state appended just before it
        assertThat(rejections.isEmpty()).as("not refused on arrival").isTrue();
        assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries()).isOne();
        publish(key, KeyStatus.ACTIVE, T0);

        advanceClock(settings.joinGrace().minusMillis(1));
        assertThat(latestUsage()).as("held the whole grace").isEmpty();
        advanceClock(Duration.ofMillis(WALL_CLOCK_CHECK_MS));
        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-raced", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-raced", "basemaps", LocalDate.of(2026, 11, 1), 1, 2));
        assertThat(rejections.isEmpty()).isTrue();
        assertThat(outcomeCount("accepted")).isEqualTo(1);
        assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries()).isZero();
        assertNothingDropped();
    }

    /** A backlog request whose key never comes (or whose secret is wrong) is refused once the grace has passed. */
    @Test
    void aBacklogRequestItsKeyDoesNotKnowIsRefusedAfterTheGraceAndOthersAreNotHeld() {
        TestKey known = publish(TestKey.create(ACME, "cred-known", 1), KeyStatus.ACTIVE, T0);
        advanceClock(Duration.ofHours(1));
        TestKey stranger = TestKey.create(ACME, "cred-stranger", 1);
        RequestLog forged = known.forged("forged", KeyFixtures.BASEMAPS, T0.plusSeconds(3));
        requests.pipeInput(stranger.keyId(), stranger.request("stranger", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(4)), clock);
        requests.pipeInput(known.keyId(), forged, clock);
        requests.pipeInput(known.keyId(), known.request("known", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(5)), clock);
        assertThat(basemapsRequestsOnNov1("cred-known")).as("a known key's request judged at once").isEqualTo(1);
        assertThat(rejections.isEmpty()).isTrue();

        advanceClock(settings.joinGrace().plusMillis(WALL_CLOCK_CHECK_MS));
        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple("stranger", RejectionReason.UNKNOWN_KEY),
                org.assertj.core.groups.Tuple.tuple("forged", RejectionReason.UNKNOWN_KEY));
        assertThat(outcomeCount("unknown-key")).isEqualTo(2);
        assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries()).isZero();
        assertNothingDropped();
    }

    @Test
    void keyStatesDaysAheadOfTheRequestsDoNotEndTheDedupeWindow() {
        // metering catching up after an outage: the key-state partition is read up to now while requests lag behind
        TestKey key = publish(TestKey.create(ACME, "cred-3b", 1), KeyStatus.ACTIVE, T0);
        RequestLog request = key.request("resent-across-catch-up", KeyFixtures.BASEMAPS, 4, T0.plusSeconds(30));
        send(request);
        publish(TestKey.create(ACME, "cred-3c", 1), KeyStatus.ACTIVE, T0.plus(Duration.ofDays(3)));
        send(request);
        flush(T0.plusSeconds(30));

        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-3b", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-3b", "basemaps", LocalDate.of(2026, 11, 1), 1, 4));
        assertNothingDropped();
    }

    @Test
    void aRequestIdSeenAgainAfterTheDedupeWindowCountsAgain() {
        TestKey key = publish(TestKey.create(ACME, "cred-4", 1), KeyStatus.ACTIVE, T0);
        RequestLog first = key.request("reused", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        send(first);
        Instant later = T0.plus(settings.dedupeWindow()).plusSeconds(60);
        send(key.request("reused", KeyFixtures.BASEMAPS, 1, later));
        flush(later);

        Map<String, UsageDaily> totals = latestUsage();
        assertThat(totals.get(UsageDaily.key(ACME, "cred-4", "basemaps", LocalDate.of(2026, 11, 1))).requests())
                .isEqualTo(1);
        assertThat(totals.get(UsageDaily.key(ACME, "cred-4", "basemaps", LocalDate.of(2026, 11, 2))).requests())
                .isEqualTo(1);
        assertNothingDropped();
    }

    @Test
    void expiredDedupeEntriesAreSweptAndRecentOnesKept() {
        TestKey key = publish(TestKey.create(ACME, "cred-4b", 1), KeyStatus.ACTIVE, T0);
        send(key.request("old-id", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)));
        Instant recent = T0.plus(settings.dedupeWindow()).plusSeconds(60);
        send(key.request("recent-id", KeyFixtures.BASEMAPS, 1, recent));
        assertThat(dedupeEntries()).containsKeys("old-id", "recent-id");
        Instant later = recent.plus(settings.dedupeWindow());
        send(key.request("new-id", KeyFixtures.BASEMAPS, 1, later));

        advanceClock(Duration.ofSeconds(2));

        // old-id is two generations (windows) behind: swept; recent-id may still be resent within the window
        assertThat(dedupeEntries()).doesNotContainKey("old-id")
                .containsEntry("recent-id", recent.toEpochMilli()).containsEntry("new-id", later.toEpochMilli());
        assertNothingDropped();
    }

    @Test
    void theDedupeChangelogRollsAndKeepsTombstonesA24thOfTheWindowAndNeverUnderAMinute() {
        assertThat(MeteringTopology.dedupeChangelog(Duration.ofDays(1)))
                .containsEntry("segment.ms", "3600000").containsEntry("delete.retention.ms", "3600000");
        assertThat(MeteringTopology.dedupeChangelog(Duration.ofMinutes(10)))
                .containsEntry("segment.ms", "60000").containsEntry("delete.retention.ms", "60000");
    }

    @Test
    void rejectionCountsOfADayAreForgottenOnceTheKeyHistoryNoLongerReachesIt() {
        TestKey stale = invalidated(TestKey.create(ACME, "cred-7", 1), T0);
        Instant firstDay = T0.plusSeconds(60);
        send(stale.request("day-1a", KeyFixtures.BASEMAPS, 1, firstDay), stale.request("day-1b", KeyFixtures.BASEMAPS, 1, firstDay));
        flush(firstDay);
        KeyValueStore<String, Long> counts = driver.getKeyValueStore(MeteringTopology.REJECTION_COUNTS_STORE);
        String dayOne = "cred-7/2026-11-01/invalidated";
        assertThat(counts.get(dayOne)).isEqualTo(2L);

        // a minute before the history stops reaching into 2026-11-01: swept every 5 minutes on the way, and kept
        Instant dayTwo = Instant.parse("2026-11-02T00:00:00Z");
        Instant stillKept = dayTwo.plus(settings.historyRetention()).minus(Duration.ofMinutes(1));
        advanceClock(Duration.between(clock, stillKept));
        send(stale.request("later", KeyFixtures.BASEMAPS, 1, stillKept));
        flush(stillKept);
        assertThat(counts.get(dayOne)).as("a day the key history still reaches").isEqualTo(2L);
        assertThat(counts.get("-/2026-11-01/unknown-key")).as("the first flush's tick, judged since").isPositive();
        String later = "cred-7/" + LocalDate.ofInstant(stillKept, ZoneOffset.UTC) + "/invalidated";
        assertThat(counts.get(later)).isEqualTo(1L);

        // 10 minutes on (two sweeps), the history no longer reaches it: forgotten; later days kept
        advanceClock(Duration.ofMinutes(10));
        assertThat(counts.get(dayOne)).as("a day older than the key history").isNull();
        assertThat(counts.get("-/2026-11-01/unknown-key")).as("the flush ticks of that day").isNull();
        assertThat(counts.get(later)).isEqualTo(1L);
        assertNothingDropped();
    }

    // --- every reason --------------------------------------------------------------------------------------------

    @Test
    void everyReasonIsPublishedWithTheCredentialWhenTheKeyIsKnown() {
        TestKey plain = publish(TestKey.create(ACME, "cred-5", 1), KeyStatus.ACTIVE, T0);
        TestKey restricted = TestKey.create(ACME, "cred-6", 1);
        keys.pipeInput(restricted.keyId(), restricted.state(KeyStatus.ACTIVE, EXPIRES, T0, List.of("item1"),
                List.of("https://*.example.com")), T0);
        TestKey invalidated = publish(TestKey.create(ACME, "cred-7", 1), KeyStatus.INVALIDATED, T0);
        TestKey expired = TestKey.create(ACME, "cred-8", 1);
        keys.pipeInput(expired.keyId(), expired.state(KeyStatus.ACTIVE, T0.plusSeconds(60), T0), T0);
        TestKey neverPublished = TestKey.create(ACME, "cred-9", 1);

        Instant at = T0.plusSeconds(120);
        send(neverPublished.request("unknown", KeyFixtures.BASEMAPS, 1, at),
                plain.forged("forged", KeyFixtures.BASEMAPS, at),
                invalidated.request("invalidated", KeyFixtures.BASEMAPS, 1, at),
                expired.request("expired", KeyFixtures.BASEMAPS, 1, at),
                plain.request("no-privilege", KeyFixtures.ROUTING, 1, at),
                plain.request("no-such-service", "teleport", 1, at),
                restricted.request("wrong-item", KeyFixtures.BASEMAPS, 1, "item2", "https://maps.example.com/a", at),
                restricted.request("wrong-referrer", KeyFixtures.BASEMAPS, 1, "item1", "https://evil.test/", at),
                restricted.request("no-referrer", KeyFixtures.BASEMAPS, 1, "item1", null, at),
                restricted.request("fine", KeyFixtures.BASEMAPS, 1, "item1", "https://example.com/x", at),
                plain.request("any-item", KeyFixtures.BASEMAPS, 1, "whatever", null, at));
        flush(at);

        Map<String, Rejection> byRequest = new LinkedHashMap<>();
        realRejections().forEach(r -> byRequest.put(r.requestId(), r));
        assertThat(byRequest).hasSize(9);
        assertThat(byRequest.get("unknown").reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
        assertThat(byRequest.get("unknown").credentialId()).isNull();
        assertThat(byRequest.get("forged").reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
        assertThat(byRequest.get("forged").credentialId()).isNull();
        assertThat(byRequest.get("invalidated").reason()).isEqualTo(RejectionReason.INVALIDATED);
        assertThat(byRequest.get("invalidated").credentialId()).isEqualTo("cred-7");
        assertThat(byRequest.get("invalidated").accountId()).isEqualTo(ACME);
        assertThat(byRequest.get("expired").reason()).isEqualTo(RejectionReason.EXPIRED);
        assertThat(byRequest.get("no-privilege").reason()).isEqualTo(RejectionReason.SERVICE_NOT_PERMITTED);
        assertThat(byRequest.get("no-such-service").reason()).isEqualTo(RejectionReason.SERVICE_NOT_PERMITTED);
        assertThat(byRequest.get("wrong-item").reason()).isEqualTo(RejectionReason.ITEM_NOT_PERMITTED);
        assertThat(byRequest.get("wrong-referrer").reason()).isEqualTo(RejectionReason.REFERRER_NOT_PERMITTED);
        assertThat(byRequest.get("no-referrer").reason()).isEqualTo(RejectionReason.REFERRER_NOT_PERMITTED);
        assertThat(byRequest.get("no-privilege").credentialId()).isEqualTo("cred-5");

        Map<String, UsageDaily> totals = latestUsage();
        assertThat(totals.get(UsageDaily.key(ACME, "cred-6", "basemaps", LocalDate.of(2026, 11, 1))).requests()).isEqualTo(1);
        assertThat(totals.get(UsageDaily.key(ACME, "cred-5", "basemaps", LocalDate.of(2026, 11, 1))).requests()).isEqualTo(1);

        KeyValueStore<String, Long> counts = driver.getKeyValueStore(MeteringTopology.REJECTION_COUNTS_STORE);
        assertThat(counts.get("cred-6/2026-11-01/referrer-not-permitted")).isEqualTo(2L);
        assertThat(counts.get("cred-5/2026-11-01/service-not-permitted")).isEqualTo(2L);
        assertThat(counts.get("-/2026-11-01/unknown-key")).isGreaterThanOrEqualTo(2L); // plus the flush ticks

        // the operational counters agree, outcome by outcome
        assertThat(outcomeCount(MeteringTopology.ACCEPTED)).isEqualTo(2);
        assertThat(outcomeCount("unknown-key")).isGreaterThanOrEqualTo(2);
        assertThat(outcomeCount("invalidated")).isEqualTo(1);
        assertThat(outcomeCount("expired")).isEqualTo(1);
        assertThat(outcomeCount("service-not-permitted")).isEqualTo(2);
        assertThat(outcomeCount("item-not-permitted")).isEqualTo(1);
        assertThat(outcomeCount("referrer-not-permitted")).isEqualTo(2);
        assertThat(outcomeCount(MeteringTopology.DUPLICATE)).isZero();
        assertNothingDropped();
    }

    // --- event time -------------------------------------------------------------------------------------------

    @Test
    void aRequestMadeBeforeAnInvalidationButArrivingAfterItIsAccepted() {
        Instant invalidatedAt = T0.plus(Duration.ofHours(1));
        TestKey key = invalidated(TestKey.create(ACME, "cred-10", 1), invalidatedAt);
        send(key.request("before", KeyFixtures.BASEMAPS, 1, invalidatedAt.minusMillis(1)),
                key.request("after", KeyFixtures.BASEMAPS, 1, invalidatedAt),
                key.request("long-after", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(600)));
        flush(invalidatedAt.plusSeconds(600));

        assertThat(basemapsRequestsOnNov1("cred-10")).isEqualTo(1);
        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("after", RejectionReason.INVALIDATED),
                org.assertj.core.groups.Tuple.tuple("long-after", RejectionReason.INVALIDATED));
        assertNothingDropped();
    }

    @Test
    void aRequestExactlyAtExpiresAtIsExpiredAndOneMillisecondBeforeIsAccepted() {
        TestKey key = TestKey.create(ACME, "cred-11", 1);
        Instant expiresAt = T0.plusSeconds(3600);
        keys.pipeInput(key.keyId(), key.state(KeyStatus.ACTIVE, expiresAt, T0), T0);
        send(key.request("just-before", KeyFixtures.BASEMAPS, 1, expiresAt.minusMillis(1)),
                key.request("at", KeyFixtures.BASEMAPS, 1, expiresAt));
        flush(expiresAt);

        assertThat(basemapsRequestsOnNov1("cred-11")).isEqualTo(1);
        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("at", RejectionReason.EXPIRED));
        assertNothingDropped();
    }

    @Test
    void aRequestFromBeforeTheKeyExistedIsUnknown() {
        TestKey key = publish(TestKey.create(ACME, "cred-12", 1), KeyStatus.ACTIVE, T0);
        send(key.request("too-early", KeyFixtures.BASEMAPS, 1, T0.minusMillis(1)),
                key.request("in-time", KeyFixtures.BASEMAPS, 1, T0));
        flush(T0);

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("too-early", RejectionReason.UNKNOWN_KEY));
        assertThat(basemapsRequestsOnNov1("cred-12")).isEqualTo(1);
        assertNothingDropped();
    }

    @Test
    void aKeyRegeneratedInItsSlotStopsTheOldKeyAndStartsTheNewOneAtThatInstant() {
        TestKey old = publish(TestKey.create(ACME, "cred-13", 1), KeyStatus.ACTIVE, T0);
        Instant regeneratedAt = T0.plus(Duration.ofHours(2));
        TestKey fresh = TestKey.create(ACME, "cred-13", 1);
        publish(old, KeyStatus.INVALIDATED, regeneratedAt);
        publish(fresh, KeyStatus.ACTIVE, regeneratedAt);
        send(old.request("old-before", KeyFixtures.BASEMAPS, 1, regeneratedAt.minusSeconds(1)),
                fresh.request("new-before", KeyFixtures.BASEMAPS, 1, regeneratedAt.minusSeconds(1)),
                old.request("old-after", KeyFixtures.BASEMAPS, 1, regeneratedAt.plusSeconds(1)),
                fresh.request("new-after", KeyFixtures.BASEMAPS, 1, regeneratedAt.plusSeconds(1)));
        flush(regeneratedAt.plusSeconds(1));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("new-before", RejectionReason.UNKNOWN_KEY),
                org.assertj.core.groups.Tuple.tuple("old-after", RejectionReason.INVALIDATED));
        assertThat(basemapsRequestsOnNov1("cred-13")).isEqualTo(2);
        assertNothingDropped();
    }

    @Test
    void aKeyRemovedAfterItDiedIsUnknownFromThenWhileItsHistoryStillJudgesLateRequests() {
        Instant invalidatedAt = T0.plus(Duration.ofHours(1));
        TestKey key = invalidated(TestKey.create(ACME, "cred-13b", 1), invalidatedAt);
        // the credential store's tombstone, keymeter.keys.forget-after (here 2 hours) after the key's last state
        Instant removedAt = invalidatedAt.plus(Duration.ofHours(2));
        keys.pipeInput(key.keyId(), null, removedAt);
        send(key.request("after-removal", KeyFixtures.BASEMAPS, 1, removedAt.plusSeconds(1)));
        // made while the key was active, and while it was invalidated; both reach metering after the removal
        arrive(key.request("made-active", KeyFixtures.BASEMAPS, 1, invalidatedAt.minusSeconds(60)), removedAt.plusSeconds(2));
        arrive(key.request("made-invalidated", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(60)),
                removedAt.plusSeconds(2));
        flush(removedAt.plusSeconds(2));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("after-removal", RejectionReason.UNKNOWN_KEY),
                org.assertj.core.groups.Tuple.tuple("made-invalidated", RejectionReason.INVALIDATED));
        assertThat(basemapsRequestsOnNov1("cred-13b")).as("the removal bills nothing less").isEqualTo(1);
        assertNothingDropped();
    }

    @Test
    void aKeyStateUpdateArrivingLateWithinTheGraceIsSeen() {
        TestKey key = publish(TestKey.create(ACME, "cred-14", 1), KeyStatus.ACTIVE, T0);
        Instant invalidatedAt = T0.plusSeconds(100);
        // the request after the invalidation arrives first; the invalidation lands a moment later
        send(key.request("sneaky", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusMillis(500)));
        publish(key, KeyStatus.INVALIDATED, invalidatedAt);
        flush(invalidatedAt.plusMillis(500));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("sneaky", RejectionReason.INVALIDATED));
        assertThat(latestUsage()).isEmpty();
        assertNothingDropped();
    }

    /**
     * One gateway's clock runs minutes ahead (ingest and the request bounds allow it). Its requests used to carry the
     * judge's stream time with them, and every other request on the partition was then judged on arrival: an
     * invalidation landing a moment after a request made after it was missed, the request billed.
     */
    @Test
    void aGatewayWhoseClockRunsAheadLeavesOtherRequestsTheirGrace() {
        TestKey key = publish(TestKey.create(ACME, "cred-14e", 1), KeyStatus.ACTIVE, T0);
        TestKey fast = publish(TestKey.create(ACME, "cred-14f", 1), KeyStatus.ACTIVE, T0);
        Instant now = T0.plusSeconds(100);
        arrive(fast.request("from-a-fast-clock", KeyFixtures.BASEMAPS, 1, now.plus(Duration.ofMinutes(4))), now);
        Instant invalidatedAt = now.plusSeconds(1);
        send(key.request("sneaky", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusMillis(500)));
        publish(key, KeyStatus.INVALIDATED, invalidatedAt);
        flush(invalidatedAt.plusMillis(500));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("sneaky", RejectionReason.INVALIDATED));
        // one read: latestUsage() drains the output topic, so a second read would always be empty
        Map<String, UsageDaily> soFar = latestUsage();
        assertThat(soFar).doesNotContainKey(UsageDaily.key(ACME, "cred-14e", "basemaps", LocalDate.of(2026, 11, 1)));
        assertThat(soFar).as("3.5 s after it arrived, the fast clock's request still waits")
                .doesNotContainKey(UsageDaily.key(ACME, "cred-14f", "basemaps", LocalDate.of(2026, 11, 1)));

        // twice the grace after it arrived, not when this clock reaches its stamp 4 minutes on
        advanceClock(Duration.ofSeconds(1));

        assertThat(basemapsRequestsOnNov1("cred-14f")).isEqualTo(1);
        assertNothingDropped();
    }

    @Test
    void aKeyInvalidatedAfterTheJudgeHeldItsLatestStateIsRejectedFromThen() {
        TestKey key = publish(TestKey.create(ACME, "cred-14c", 1), KeyStatus.ACTIVE, T0);
        send(key.request("warm", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(60)));
        flush(T0.plusSeconds(60)); // judged: the judge now holds the key's latest (active) state in memory
        Instant invalidatedAt = T0.plusSeconds(600);
        publish(key, KeyStatus.INVALIDATED, invalidatedAt);
        send(key.request("after", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(1)),
                key.request("before-arriving-late", KeyFixtures.BASEMAPS, 1, invalidatedAt.minusSeconds(1)));
        flush(invalidatedAt.plusSeconds(1));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("after", RejectionReason.INVALIDATED));
        assertThat(basemapsRequestsOnNov1("cred-14c")).isEqualTo(2);
        assertNothingDropped();
    }

    @Test
    void aKeyStateUpdateOlderThanTheLatestChangesOnlyTheTimeItCovers() {
        TestKey key = publish(TestKey.create(ACME, "cred-14d", 1), KeyStatus.ACTIVE, T0);
        Instant latestAt = T0.plusSeconds(7200);
        publish(key, KeyStatus.ACTIVE, latestAt);
        // out of order: an invalidation stamped between the two states lands after both
        Instant invalidatedAt = T0.plusSeconds(3600);
        publish(key, KeyStatus.INVALIDATED, invalidatedAt);
        send(key.request("warm", KeyFixtures.BASEMAPS, 1, latestAt.plusSeconds(60)));
        flush(latestAt.plusSeconds(60)); // the judge now holds the latest state, the one that began at latestAt
        send(key.request("in-the-invalidated-hour", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(60)),
                key.request("after-the-latest", KeyFixtures.BASEMAPS, 1, latestAt.plusSeconds(120)));
        flush(latestAt.plusSeconds(120));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple("in-the-invalidated-hour", RejectionReason.INVALIDATED));
        assertThat(basemapsRequestsOnNov1("cred-14d")).isEqualTo(2);
        assertNothingDropped();
    }

    @Test
    void waitingRequestsAreJudgedWhenRealTimePassesTheGraceEvenWithoutLaterTraffic() {
        TestKey key = publish(TestKey.create(ACME, "cred-14b", 1), KeyStatus.ACTIVE, T0);
        send(key.request("last-before-a-pause", KeyFixtures.BASEMAPS, 2, T0.plusSeconds(5)));
        assertThat(usage.isEmpty()).isTrue(); // waiting out the grace
        assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries()).isEqualTo(1);

        advanceClock(Duration.ofSeconds(8)); // real time passes T0 + 5 s + grace

        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-14b", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-14b", "basemaps", LocalDate.of(2026, 11, 1), 1, 2));
        assertNothingDropped();
    }

    @Test
    void aRequestAtTheEdgeOfMaxAgeIsStillCounted() {
        Instant now = T0.plus(Duration.ofDays(60));
        Instant edge = now.minus(properties.ingest().maxAge());
        TestKey key = TestKey.create(ACME, "cred-15", 1);
        Instant created = edge.minus(Duration.ofDays(1));
        keys.pipeInput(key.keyId(), key.state(KeyStatus.ACTIVE, now.plus(Duration.ofDays(30)), created), created);
        // the key changed since (referrers), so the state at the edge is history, not the latest version
        keys.pipeInput(key.keyId(), key.state(KeyStatus.ACTIVE, now.plus(Duration.ofDays(30)), now, List.of(),
                List.of("https://only.example.com")), now);
        // metering half a day behind: a state stamped after the edge request was taken has been read already (the
        // history's margin past max-age covers that; kept to max-age alone, the edge request was refused unknown-key)
        TestKey later = TestKey.create(ACME, "cred-15b", 1);
        Instant halfADayOn = now.plus(Duration.ofHours(12));
        keys.pipeInput(later.keyId(), later.state(KeyStatus.ACTIVE, now.plus(Duration.ofDays(30)), halfADayOn),
                halfADayOn);
        send(key.request("now", KeyFixtures.BASEMAPS, 1, null, "https://only.example.com/", now));
        send(key.request("edge", KeyFixtures.BASEMAPS, 5, edge));
        flush(now);

        LocalDate edgeDay = LocalDate.ofInstant(edge, ZoneOffset.UTC);
        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-15", "basemaps", edgeDay)))
                .isEqualTo(new UsageDaily(ACME, "cred-15", "basemaps", edgeDay, 1, 5));
        assertThat(realRejections()).isEmpty();
        assertNothingDropped();
    }

    // --- alerts ------------------------------------------------------------------------------------------------

    @Test
    void anInvalidatedKeyInUseRaisesAtMostOneAlertPerHourWithCounts() {
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey key = invalidated(TestKey.create(ACME, "cred-16", 1), invalidatedAt);
        List<RequestLog> uses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            uses.add(key.request("stolen-" + i, KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(Duration.ofMinutes(20L * i + 1))));
        }
        send(uses.toArray(RequestLog[]::new));
        flush(uses.get(5).timestamp());

        List<SecurityAlert> raised = alerts.readValuesToList();
        // uses at +1, +21, +41, +61, +81, +101 minutes: alerts at the first use and once the hour has passed
        assertThat(raised).hasSize(2);
        assertThat(raised.get(0)).isEqualTo(new SecurityAlert(io.keymeter.metering.alerts.StaleKeyAlerter.KIND, ACME,
                "cred-16", key.keyId(), "invalidated", 1, uses.get(0).timestamp(), uses.get(0).timestamp()));
        assertThat(raised.get(1).count()).isEqualTo(4);
        assertThat(raised.get(1).firstSeen()).isEqualTo(uses.get(0).timestamp());
        assertThat(raised.get(1).lastSeen()).isEqualTo(uses.get(3).timestamp());
        assertNothingDropped();
    }

    /**
     * Requests in flight when a key dies (made after the invalidation or expiry, before the gateway or its client
     * could know) are refused and counted, but raise no alert until a use comes the grace after the death: every key
     * regenerated or invalidated under traffic raised one (a probe: about one alert per rotated key).
     */
    @Test
    void usesWithinTheGraceAfterAKeyDiedAreRefusedWithoutAnAlert() {
        Duration grace = MeteringSettings.DEFAULT_ALERT_GRACE;
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey rotated = invalidated(TestKey.create(ACME, "cred-16g", 1), invalidatedAt);
        TestKey lapsed = TestKey.create(ACME, "cred-16e", 1);
        Instant expiresAt = T0.plusSeconds(20);
        keys.pipeInput(lapsed.keyId(), lapsed.state(KeyStatus.ACTIVE, expiresAt, T0), T0);
        send(rotated.request("in-flight", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusMillis(300)),
                rotated.request("last-moment", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(grace).minusNanos(1)),
                lapsed.request("just-expired", KeyFixtures.BASEMAPS, 1, expiresAt.plusSeconds(1)));
        flush(expiresAt.plusSeconds(1));

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple("in-flight", RejectionReason.INVALIDATED),
                org.assertj.core.groups.Tuple.tuple("last-moment", RejectionReason.INVALIDATED),
                org.assertj.core.groups.Tuple.tuple("just-expired", RejectionReason.EXPIRED));
        assertThat(alerts.readValuesToList()).as("no alert within the grace").isEmpty();

        RequestLog stolen = rotated.request("stolen", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(grace));
        RequestLog kept = lapsed.request("kept-using", KeyFixtures.BASEMAPS, 1, expiresAt.plus(grace));
        send(stolen, kept);
        flush(kept.timestamp());

        assertThat(alerts.readValuesToList()).extracting(SecurityAlert::keyId, SecurityAlert::reason, SecurityAlert::count,
                SecurityAlert::firstSeen).containsExactly(
                org.assertj.core.groups.Tuple.tuple(rotated.keyId(), "invalidated", 1L, stolen.timestamp()),
                org.assertj.core.groups.Tuple.tuple(lapsed.keyId(), "expired", 1L, kept.timestamp()));
        assertNothingDropped();
    }

    /**
     * A key state without an expiry (no writer of Keymeter's makes one) is refused {@code expired}: its uses alert
     * like any expired key's, counted from when that state began. They raised none: no expiry to count from.
     */
    @Test
    void aKeyStateWithoutAnExpiryInUseRaisesAnAlert() {
        TestKey key = TestKey.create(ACME, "cred-16x", 1);
        keys.pipeInput(key.keyId(), key.state(KeyStatus.ACTIVE, null, T0), T0);
        RequestLog early = key.request("within-grace", KeyFixtures.BASEMAPS, 1, T0.plusMillis(300));
        RequestLog use = key.request("no-expiry", KeyFixtures.BASEMAPS, 1, T0.plus(MeteringSettings.DEFAULT_ALERT_GRACE));
        send(early, use);
        flush(use.timestamp());

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple("within-grace", RejectionReason.EXPIRED),
                org.assertj.core.groups.Tuple.tuple("no-expiry", RejectionReason.EXPIRED));
        assertThat(alerts.readValuesToList()).extracting(SecurityAlert::keyId, SecurityAlert::reason,
                SecurityAlert::count, SecurityAlert::firstSeen).containsExactly(
                org.assertj.core.groups.Tuple.tuple(key.keyId(), "expired", 1L, use.timestamp()));
        assertNothingDropped();
    }

    /** An alert names a use's own time, finer than a millisecond: cut to the record's, it preceded the invalidation. */
    @Test
    void anAlertNamesTheUsesOwnTime() {
        Instant invalidatedAt = T0.plusSeconds(10).plusNanos(123_456_000);
        TestKey key = invalidated(TestKey.create(ACME, "cred-16n", 1), invalidatedAt);
        RequestLog use = key.request("stolen-fine", KeyFixtures.BASEMAPS, 1,
                invalidatedAt.plus(MeteringSettings.DEFAULT_ALERT_GRACE).plusNanos(700));
        send(use);
        flush(use.timestamp());

        assertThat(alerts.readValuesToList()).singleElement().satisfies(alert -> {
            assertThat(alert.firstSeen()).isEqualTo(use.timestamp());
            assertThat(alert.lastSeen()).isEqualTo(use.timestamp());
        });
        assertNothingDropped();
    }

    /**
     * A key used after it expired and was invalidated, then a late request made before the invalidation (refused
     * expired): the alert keeps the reason of the latest use by time. It took the last one processed, so billing's one
     * row for the run read "expired" for a key used after its invalidation.
     */
    @Test
    void aLateUseMadeBeforeTheInvalidationLeavesTheAlertsReasonInvalidated() {
        TestKey key = TestKey.create(ACME, "cred-16r", 1);
        Instant expiresAt = T0.plusSeconds(60);
        Instant invalidatedAt = T0.plusSeconds(600);
        keys.pipeInput(key.keyId(), key.state(KeyStatus.ACTIVE, expiresAt, T0), T0);
        keys.pipeInput(key.keyId(), key.state(KeyStatus.INVALIDATED, expiresAt, invalidatedAt), invalidatedAt);
        RequestLog after = key.request("after", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(100));
        send(after);
        flush(after.timestamp());
        arrive(key.request("late", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(300)), clock); // arrives now
        flush(clock);

        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple("after", RejectionReason.INVALIDATED),
                org.assertj.core.groups.Tuple.tuple("late", RejectionReason.EXPIRED));
        KeyValueStore<String, AlertState> states = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        assertThat(states.get(key.keyId())).satisfies(state -> {
            assertThat(state.reason()).isEqualTo("invalidated");
            assertThat(state.count()).isEqualTo(2);
            assertThat(state.firstSeen()).isEqualTo(T0.plusSeconds(300));
            assertThat(state.lastSeen()).isEqualTo(after.timestamp());
        });
        assertNothingDropped();
    }

    /**
     * Uses within the hour after an alert are reported by the hourly sweep once the hour has passed (by the
     * instance's clock), when no later use brings an alert: the last alert's count and last use stayed behind for
     * good. Not before the hour, and not again once reported.
     */
    @Test
    void usesAfterTheLastAlertAreReportedOnceTheHourHasPassedWhenTheKeyGoesQuiet() {
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey key = invalidated(TestKey.create(ACME, "cred-16d", 1), invalidatedAt);
        List<RequestLog> uses = List.of(
                key.request("quiet-0", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(Duration.ofMinutes(1))),
                key.request("quiet-1", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(Duration.ofMinutes(21))),
                key.request("quiet-2", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(Duration.ofMinutes(41))));
        send(uses.toArray(RequestLog[]::new));
        flush(uses.get(2).timestamp());
        assertThat(alerts.readValuesToList()).extracting(SecurityAlert::count).containsExactly(1L);

        // a sweep 58m50s after the alert (every 5 minutes from the task's start at T0), then one well past the hour
        advanceClock(Duration.between(clock, T0.plus(Duration.ofHours(1))));
        assertThat(alerts.readValuesToList()).as("a sweep within the hour after the alert").isEmpty();
        advanceClock(Duration.ofHours(1));
        assertThat(alerts.readValuesToList()).singleElement().satisfies(alert -> {
            assertThat(alert.count()).isEqualTo(3);
            assertThat(alert.firstSeen()).isEqualTo(uses.get(0).timestamp());
            assertThat(alert.lastSeen()).isEqualTo(uses.get(2).timestamp());
            assertThat(alert.credentialId()).isEqualTo("cred-16d");
        });
        advanceClock(Duration.ofHours(3));
        assertThat(alerts.readValuesToList()).as("reported once").isEmpty();
        assertNothingDropped();
    }

    /**
     * A key used every 35 minutes, the instance's clock moving with the uses: the sweep reports the use after the
     * first alert once the hour has passed, and the next alert comes an hour after that report. Counted from the
     * last use the report named, a use 42 minutes after the report alerted again.
     */
    @Test
    void aKeyInSteadyUseAlertsAtMostOncePerHourAcrossTheSweepsReports() {
        TestKey key = invalidated(TestKey.create(ACME, "cred-16s", 1), T0.plusSeconds(10));
        Map<Integer, Instant> uses = new LinkedHashMap<>();
        for (int minute = 1; minute < 150; minute += 35) { // +1, +36, +71, +106, +141 minutes
            uses.put(minute, T0.plus(Duration.ofMinutes(minute)));
        }

        Map<Long, SecurityAlert> sent = alertsByMinuteSent(key, uses, 250);

        assertThat(sent.keySet()).as("minutes the alerts were sent").containsExactly(2L, 65L, 125L, 185L);
        assertThat(sent.values()).extracting(SecurityAlert::count).as("counts, alert by alert")
                .containsExactly(1L, 2L, 4L, 5L);
        List<Long> minutes = List.copyOf(sent.keySet());
        for (int i = 1; i < minutes.size(); i++) {
            assertThat(minutes.get(i) - minutes.get(i - 1)).as("minutes between alerts, sent at minutes %s", minutes)
                    .isGreaterThanOrEqualTo(60);
        }
        assertThat(sent.values()).last().extracting(SecurityAlert::lastSeen).isEqualTo(T0.plus(Duration.ofMinutes(141)));
        assertNothingDropped();
    }

    /**
     * After a sweep's report a use alerts by itself once the hour from the report has passed, in the minute it is
     * judged; and a use made earlier but arriving later (a gateway's buffer) does not bring that hour forward: taken
     * as the last use's arrival, it had a use 46 minutes after the report alert.
     */
    @Test
    void aUseAnHourAfterTheSweepsReportAlertsAndALateUseDoesNotBringThatForward() {
        TestKey key = invalidated(TestKey.create(ACME, "cred-16l", 1), T0.plusSeconds(10));
        Map<Integer, Instant> uses = new LinkedHashMap<>();
        uses.put(1, T0.plus(Duration.ofMinutes(1)));
        uses.put(36, T0.plus(Duration.ofMinutes(36)));
        uses.put(58, T0.plus(Duration.ofMinutes(30))); // made at +30, arriving at +58
        uses.put(110, T0.plus(Duration.ofMinutes(110)));
        uses.put(190, T0.plus(Duration.ofMinutes(190)));

        Map<Long, SecurityAlert> sent = alertsByMinuteSent(key, uses, 200);

        // the report at +65 counts the next hour from +64 of the uses' time (the use at +36, judged at +37, plus the
        // 28 minutes since), not from +43 (the late use's arrival at +58, 7 minutes before the report)
        assertThat(sent.keySet()).containsExactly(2L, 65L, 125L, 191L);
        assertThat(sent.values()).extracting(SecurityAlert::count).containsExactly(1L, 3L, 4L, 5L);
        assertThat(sent.get(191L).lastSeen()).isEqualTo(T0.plus(Duration.ofMinutes(190)));
        assertNothingDropped();
    }

    /**
     * A use made earlier than the last one, or at its time, and arriving later keeps when the last one arrived; for a
     * state written before that was kept, its last touch stands in. A use made later takes its own arrival.
     */
    @Test
    void aLateUseKeepsWhenTheLastUseArrived() {
        TestKey key = invalidated(TestKey.create(ACME, "cred-16t", 1), T0.plusSeconds(10));
        KeyValueStore<String, AlertState> states = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        Instant lastUse = T0.plus(Duration.ofMinutes(5));
        Instant touched = T0.plus(Duration.ofMinutes(6));
        states.put(key.keyId(), new AlertState(ACME, "cred-16t", "invalidated", 2, lastUse, lastUse, lastUse, touched,
                2L, touched, null));
        advanceClock(Duration.ofMinutes(20));

        arrive(key.request("same-time", KeyFixtures.BASEMAPS, 1, lastUse), clock);
        arrive(key.request("earlier", KeyFixtures.BASEMAPS, 1, lastUse.minusSeconds(60)), clock);
        assertThat(states.get(key.keyId())).satisfies(state -> {
            assertThat(state.count()).isEqualTo(4);
            assertThat(state.touchedAt()).isEqualTo(clock);
            assertThat(state.lastSeenArrivedAt()).isEqualTo(touched);
        });
        arrive(key.request("later", KeyFixtures.BASEMAPS, 1, clock), clock);
        advanceClock(Duration.ofMinutes(1)); // judged after the join grace
        assertThat(states.get(key.keyId()).lastSeenArrivedAt()).isEqualTo(clock);
        assertThat(alerts.readValuesToList()).as("none due").isEmpty();
        assertNothingDropped();
    }

    /**
     * Steps the instance's clock a minute at a time from T0 for {@code minutes} minutes, a use of {@code key} arriving
     * at each minute of {@code uses} stamped as given there, and returns the alerts by the minute they were sent.
     */
    private Map<Long, SecurityAlert> alertsByMinuteSent(TestKey key, Map<Integer, Instant> uses, int minutes) {
        Map<Long, SecurityAlert> sent = new LinkedHashMap<>();
        for (int minute = 1; minute <= minutes; minute++) {
            advanceClock(Duration.ofMinutes(1));
            Instant made = uses.get(minute);
            if (made != null) {
                arrive(key.request("use-" + minute, KeyFixtures.BASEMAPS, 1, made), clock);
            }
            for (SecurityAlert alert : alerts.readValuesToList()) {
                assertThat(sent.put((long) minute, alert)).as("one alert a minute").isNull();
            }
        }
        return sent;
    }

    /**
     * States kept before alerts were counted (their JSON without {@code alertedCount}/{@code alertedAt}) say only
     * which use their last alert reported: one whose last use is that one is not reported again; one with uses after
     * it is reported once.
     */
    @Test
    void statesKeptBeforeAlertsWereCountedReportOnlyUsesAfterTheirLastAlertOnce() {
        KeyValueStore<String, AlertState> states = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        states.put("oldStateKeyId001", oldState("cred-16e", 5, "2026-11-01T10:00:30Z"));
        states.put("oldStateKeyId002", oldState("cred-16f", 7, "2026-11-01T10:20:00Z"));
        advanceClock(Duration.ofMinutes(10)); // a sweep
        assertThat(alerts.readValuesToList()).singleElement().satisfies(alert -> {
            assertThat(alert.keyId()).isEqualTo("oldStateKeyId002");
            assertThat(alert.count()).isEqualTo(7);
            assertThat(alert.lastSeen()).isEqualTo(Instant.parse("2026-11-01T10:20:00Z"));
        });
        assertThat(states.get("oldStateKeyId001").alertedCount()).isEqualTo(5L);
        advanceClock(Duration.ofHours(3));
        assertThat(alerts.readValuesToList()).as("reported once").isEmpty();
        assertNothingDropped();
    }

    /**
     * An alert state this version cannot read (a later version's, damaged bytes): a use of its key starts a new count
     * and alerts at once (it failed before: every use dead-lettered, the stolen key never alerted again), and the
     * sweep forgets it and goes on to the states after it (it stopped there before, every 5 minutes).
     */
    @Test
    void anAlertStateThisVersionCannotReadNeitherHidesItsKeyNorStopsTheSweep() {
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey stolen = invalidated(TestKey.create(ACME, "cred-16g", 1), invalidatedAt);
        KeyValueStore<Bytes, byte[]> raw = rawAlertStore();
        raw.put(Bytes.wrap(stolen.keyId().getBytes(StandardCharsets.UTF_8)), "{\"count\":{".getBytes(StandardCharsets.UTF_8));
        Bytes unreadable = Bytes.wrap("0000unreadable".getBytes(StandardCharsets.UTF_8)); // sorts first
        raw.put(unreadable, new byte[] {(byte) 0xff, 0x00});
        KeyValueStore<String, AlertState> states = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        states.put("oldStateKeyId002", oldState("cred-16f", 7, "2026-11-01T10:20:00Z"));

        send(stolen.request("stolen-0", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(60)));
        flush(invalidatedAt.plusSeconds(60));
        assertThat(alerts.readValuesToList()).singleElement().satisfies(alert -> {
            assertThat(alert.keyId()).isEqualTo(stolen.keyId());
            assertThat(alert.count()).isEqualTo(1);
        });
        assertThat(states.get(stolen.keyId()).count()).as("written over, readable").isEqualTo(1);

        advanceClock(Duration.ofMinutes(10)); // a sweep
        assertThat(alerts.readValuesToList()).as("the state after the unreadable one reported")
                .extracting(SecurityAlert::keyId).containsExactly("oldStateKeyId002");
        assertThat(raw.get(unreadable)).as("the unreadable state forgotten").isNull();
        assertNothingDropped();
    }

    /** The alert store below its serde, to write bytes this version cannot read. */
    @SuppressWarnings("unchecked")
    private KeyValueStore<Bytes, byte[]> rawAlertStore() {
        Object store = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        return ((WrappedStateStore<KeyValueStore<Bytes, byte[]>, ?, ?>) store).wrapped();
    }

    /** An alert state as an earlier version wrote it: last alert at the first use, 10:00:30. */
    private static AlertState oldState(String credentialId, long count, String lastSeen) {
        String json = "{\"accountId\":\"" + ACME + "\",\"credentialId\":\"" + credentialId + "\",\"reason\":\"expired\","
                + "\"count\":" + count + ",\"firstSeen\":\"2026-11-01T10:00:00Z\",\"lastSeen\":\"" + lastSeen + "\","
                + "\"lastAlertAt\":\"2026-11-01T10:00:30Z\",\"touchedAt\":\"2026-11-01T10:00:30Z\"}";
        return MeteringSerdes.ALERT_STATE.deserializer().deserialize("t", json.getBytes(StandardCharsets.UTF_8));
    }

    /** The alert state of a key no longer used is forgotten, so the store holds the keys used lately only. */
    @Test
    void aStaleKeysAlertStateIsForgottenOnceItsLastUseIsOlderThanTheKeyHistory() {
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey key = invalidated(TestKey.create(ACME, "cred-16b", 1), invalidatedAt);
        send(key.request("stolen-0", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(60)),
                key.request("stolen-1", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(120)));
        flush(invalidatedAt.plusSeconds(120));
        KeyValueStore<String, AlertState> states = driver.getKeyValueStore(MeteringTopology.ALERT_STORE);
        assertThat(states.get(key.keyId()).count()).isEqualTo(2);

        advanceClock(settings.historyRetention().minus(Duration.ofHours(1)));
        assertThat(states.get(key.keyId())).as("last used within the key history's retention").isNotNull();
        advanceClock(Duration.ofHours(2));
        assertThat(states.get(key.keyId())).isNull();

        send(key.request("stolen-again", KeyFixtures.BASEMAPS, 1, clock));
        flush(clock);
        List<SecurityAlert> raised = alerts.readValuesToList();
        assertThat(raised).extracting(SecurityAlert::count).as("the second use reported by a sweep, then a new count, "
                + "alerted at once").containsExactly(1L, 2L, 1L);
        assertNothingDropped();
    }

    /**
     * Metering reading a backlog older than the key history's retention (or a gateway producing old requests
     * directly): the key's state is kept while its uses keep arriving, so its count runs on and alerts stay hourly.
     */
    @Test
    void aStaleKeyUsedInABacklogOlderThanTheKeyHistoryKeepsItsRunningCount() {
        Instant invalidatedAt = T0.plusSeconds(10);
        TestKey key = invalidated(TestKey.create(ACME, "cred-16c", 1), invalidatedAt);
        advanceClock(settings.historyRetention().plusDays(5));
        send(key.request("old-0", KeyFixtures.BASEMAPS, 1, invalidatedAt.plusSeconds(60)));
        advanceClock(Duration.ofHours(1).plusSeconds(1)); // a sweep runs between the two uses
        send(key.request("old-1", KeyFixtures.BASEMAPS, 1, invalidatedAt.plus(Duration.ofMinutes(70))));

        assertThat(alerts.readValuesToList()).extracting(SecurityAlert::count).containsExactly(1L, 2L);
        assertNothingDropped();
    }

    /** Every processor, store and topic of the topology is named (see {@link TopologyNames}). */
    @Test
    void everyProcessorStoreAndTopicIsNamed() {
        Topology topology = MeteringTopology.build(settings, registry);
        assertThat(TopologyNames.all(topology)).hasSizeGreaterThan(10);
        assertThat(TopologyNames.generated(topology)).isEmpty();
    }

    // --- nothing silently lost ----------------------------------------------------------------------------

    /**
     * A record that fails in processing (a tombstone is not a request) lands on the dead-letter topic with headers
     * saying why, and the records after it are processed. (TopologyTestDriver does not route deserialization
     * failures to the dead-letter topic; {@code MeteringIntegrationTest} proves that on the real broker.)
     */
    @Test
    void aRecordThatFailsProcessingGoesToTheDeadLetterTopicAndProcessingContinues() {
        TestKey key = publish(TestKey.create(ACME, "cred-17", 1), KeyStatus.ACTIVE, T0);
        requests.pipeInput(key.keyId(), null, T0.plusSeconds(1));
        send(key.request("after-poison", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2)));
        flush(T0.plusSeconds(2));

        List<TestRecord<byte[], byte[]>> dead = topics.deadLetters.readRecordsToList();
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).key(), StandardCharsets.UTF_8)).isEqualTo(key.keyId());
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header header : dead.get(0).headers()) {
            headers.put(header.key(), header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
        }
        assertThat(headers).containsEntry("__streams.errors.exception", IllegalArgumentException.class.getName())
                .containsEntry("__streams.errors.message", "request record without a value")
                .containsEntry("__streams.errors.topic", Topics.REQUESTS.name())
                .containsEntry("__streams.errors.partition", "0")
                .containsEntry("__streams.errors.offset", "0");
        assertThat(basemapsRequestsOnNov1("cred-17")).isEqualTo(1);
        assertThat(droppedRecords()).isEqualTo(1.0); // the failed record, which is on the dead-letter topic
    }

    /**
     * An active key state without the account its usage is billed to (another producer's): read from the topic it is
     * refused (the real broker's dead letter is in {@code UnreadableKeyStateTest}) and the key's previous state judges
     * and bills. One an earlier version stored, read back from the store, is taken as it is: the table source reads the
     * stored state before each update, and checked there, the key's invalidation after it was a dead letter too.
     */
    @Test
    void anActiveKeyStateWithoutItsAccountIsRefusedFromTheTopicButReadBackFromTheStore() {
        TestKey key = publish(TestKey.create(ACME, "cred-accountless", 1), KeyStatus.ACTIVE, T0);
        keys.pipeInput(key.keyId(), accountless(key, T0.plusSeconds(10)), T0.plusSeconds(10));
        send(key.request("after-refused", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(20)));
        flush(T0.plusSeconds(20));
        assertThat(latestUsage()).containsEntry(UsageDaily.key(ACME, "cred-accountless", "basemaps",
                LocalDate.of(2026, 11, 1)), new UsageDaily(ACME, "cred-accountless", "basemaps", LocalDate.of(2026, 11, 1), 1, 1));

        VersionedKeyValueStore<String, ApiKeyState> stored = driver.getVersionedKeyValueStore(MeteringTopology.API_KEYS_STORE);
        stored.put(key.keyId(), accountless(key, T0.plusSeconds(30)), T0.plusSeconds(30).toEpochMilli());
        publish(key, KeyStatus.INVALIDATED, T0.plusSeconds(40));
        send(key.request("after-invalidation", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(50)));
        flush(T0.plusSeconds(50));
        assertThat(realRejections()).extracting(Rejection::requestId, Rejection::reason)
                .containsExactly(tuple("after-invalidation", RejectionReason.INVALIDATED));
        assertThat(topics.deadLetterReasons()).as("no processing failure").isEmpty();
        assertThat(droppedRecords()).as("the state refused at the source, alone").isEqualTo(1.0);
        assertThat(stored.get(key.keyId()).value().status()).isEqualTo(KeyStatus.INVALIDATED);
    }

    private static ApiKeyState accountless(TestKey key, Instant at) {
        ApiKeyState state = key.state(KeyStatus.ACTIVE, EXPIRES, at);
        return new ApiKeyState(state.keyId(), state.credentialId(), null, state.slot(), state.status(), state.expiresAt(),
                state.secretHash(), state.privileges(), state.itemAccess(), state.referrers(), state.updatedAt());
    }

    /**
     * A gateway with a broken clock, producing to the topic directly (ingest would refuse the line): its request goes
     * to the dead-letter topic instead of carrying the dedupe's request time decades ahead, where every requestId
     * seen before it would be forgotten. A request stamped max-future-skew plus the margin ahead is still judged.
     */
    @Test
    void aRequestStampedFarAheadOfTheClockGoesToTheDeadLettersAndResendsStillCountOnce() {
        TestKey key = publish(TestKey.create(ACME, "cred-18", 1), KeyStatus.ACTIVE, T0);
        RequestLog seen = key.request("seen-before", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        send(seen);
        Instant decadesAhead = Instant.parse("2100-01-01T00:00:00Z");
        RequestLog brokenClock = key.request("broken-clock", KeyFixtures.BASEMAPS, 1, decadesAhead);
        requests.pipeInput(key.keyId(), brokenClock, decadesAhead); // not send(): the wall clock stays
        send(seen);
        Instant edge = clock.plus(properties.ingest().maxFutureSkew()).plus(RequestBounds.CLOCK_MARGIN);
        requests.pipeInput(key.keyId(), key.request("at-the-edge", KeyFixtures.BASEMAPS, 1, edge), edge);
        flush(edge);

        assertThat(topics.deadLetterReasons()).containsExactly("request stamped 2100-01-01T00:00:00Z is more than "
                + "PT5M (keymeter.ingest.max-future-skew) and PT1M ahead of this instance's clock, 2026-11-01T10:00:01Z");
        assertThat(basemapsRequestsOnNov1("cred-18")).as("seen-before once, at-the-edge").isEqualTo(2);
        assertThat(outcomeCount(MeteringTopology.DUPLICATE)).isEqualTo(1);
        assertThat(droppedRecords()).isEqualTo(1.0); // the request on the dead-letter topic
    }

    /**
     * Produced directly with a zero time (before 1970) or one beyond what a millisecond count holds: Kafka Streams
     * skipped the first with only a metric (negative event time) and failed its thread on the second for ever.
     */
    @Test
    void aRequestStampedBefore1970OrBeyondMillisecondsGoesToTheDeadLetters() {
        TestKey key = publish(TestKey.create(ACME, "cred-21", 1), KeyStatus.ACTIVE, T0);
        Instant yearOne = Instant.parse("0001-01-01T00:00:00Z");
        Instant beyond = Instant.ofEpochMilli(Long.MAX_VALUE).plusSeconds(1);
        requests.pipeInput(key.keyId(), key.request("year-one", KeyFixtures.BASEMAPS, 1, yearOne), T0.plusSeconds(1));
        requests.pipeInput(key.keyId(), key.request("beyond", KeyFixtures.BASEMAPS, 1, beyond), T0.plusSeconds(1));
        send(key.request("fine", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2)));
        flush(T0.plusSeconds(2));

        // a year of more than four digits is no RFC 3339 time: unreadable before it is judged (session 48), a
        // deserialization failure, which TopologyTestDriver does not route to the dead letters (the broker does)
        assertThat(topics.deadLetterReasons()).containsExactly(
                "request stamped " + yearOne + ", before 1970 or beyond what a millisecond count holds");
        assertThat(basemapsRequestsOnNov1("cred-21")).isEqualTo(1);
        assertThat(droppedRecords()).isEqualTo(2.0); // the two failed, nothing else
    }

    /**
     * Produced directly, keyed by something else than its keyId (or by nothing): it sits on another partition than
     * the key's states. It was judged by the record key on arrival (unknown-key) but by its keyId after waiting for
     * its grace; now it goes to the dead letters, where it can be produced again, rightly keyed.
     */
    @Test
    void aRequestNotKeyedByItsKeyIdGoesToTheDeadLetters() {
        TestKey key = publish(TestKey.create(ACME, "cred-22", 1), KeyStatus.ACTIVE, T0);
        requests.pipeInput((String) null, key.request("unkeyed", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)),
                T0.plusSeconds(1));
        requests.pipeInput("someone-else", key.request("mis-keyed", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)),
                T0.plusSeconds(1));
        send(key.request("fine", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2)));
        flush(T0.plusSeconds(2));

        String reason = "request record not keyed by its keyId (keymeter.requests is partitioned by keyId, as the key "
                + "states are)";
        assertThat(topics.deadLetterReasons()).containsExactly(reason, reason);
        assertThat(basemapsRequestsOnNov1("cred-22")).isEqualTo(1);
        assertThat(droppedRecords()).isEqualTo(2.0);
    }

    /**
     * Produced directly by a client whose partitioner is not Kafka's (librdkafka's default): on another partition than
     * its key's states, it was refused {@code unknown-key} while verify found the key valid, never billed. Now a dead
     * letter saying so; one on its keyId's partition is billed. A whole API key given as keyId, an uppercase hash: dead
     * letters too, not {@code unknown-key} rejections carrying the key on.
     */
    @Test
    void aRequestOnAnotherPartitionThanItsKeyIdsOrWithAKeyIdOrHashNotShapedAsOneGoesToTheDeadLetters() {
        driver.close();
        startDriver(6);
        TestKey home = keyOnPartition(true, ACME, "cred-23");
        TestKey away = keyOnPartition(false, ACME, "cred-24");
        publish(home, KeyStatus.ACTIVE, T0);
        publish(away, KeyStatus.ACTIVE, T0);
        send(home.request("home", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)));
        send(away.request("away", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)));
        RequestLog wholeKey = home.request("whole-key", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2));
        requests.pipeInput(home.apiKey(), new RequestLog(wholeKey.requestId(), home.apiKey(), wholeKey.secretHash(),
                wholeKey.service(), wholeKey.operation(), 1, null, null, wholeKey.timestamp()), T0.plusSeconds(2));
        RequestLog upper = home.request("upper", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2));
        send(new RequestLog(upper.requestId(), upper.keyId(), upper.secretHash().toUpperCase(), upper.service(),
                upper.operation(), 1, null, null, upper.timestamp()));
        flush(T0.plusSeconds(2));

        assertThat(topics.deadLetterReasons()).containsExactly(
                "request on partition 0 of keymeter.requests, where its keyId's states are on partition "
                        + KafkaTopics.partitionOf(away.keyId(), 6) + " of 6: produce it with Kafka's default partitioner"
                        + " (murmur2 of the key; librdkafka: partitioner=murmur2_random)",
                "request keyId of " + ApiKeys.LENGTH + " characters is not 16 base62 characters (the keyId part of the"
                        + " API key, as ApiKeys.parse gives it)",
                "request secretHash of 64 characters is not 64 lowercase hex characters (the SHA-256 of the key's"
                        + " secret, as ApiKeys.parse gives it)");
        assertThat(basemapsRequestsOnNov1("cred-23")).isEqualTo(1);
        assertThat(realRejections()).as("none refused unknown-key").isEmpty();
        assertThat(droppedRecords()).isEqualTo(3.0);
    }

    /**
     * A gateway producing directly that logs the URL it served puts the client's key in the operation or referrer
     * (ArcGIS clients send {@code ?token=}): the rejection copied it on to {@code keymeter.rejections}. Masked now;
     * a requestId holding a key is a dead letter, as ingest refuses it.
     */
    @Test
    void aKeyInARequestsTextsIsMaskedInItsRejection() {
        TestKey stranger = TestKey.create(ACME, "cred-25", 1); // never published: unknown-key
        String masked = "km_" + stranger.keyId() + "_" + "*".repeat(38);
        RequestLog plain = stranger.request("r-url", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1));
        send(new RequestLog(plain.requestId(), plain.keyId(), plain.secretHash(), plain.service(),
                "GET /tile?token=" + stranger.apiKey(), 1, "item-" + stranger.apiKey(),
                "https://app.example.com/?token=" + stranger.apiKey(), plain.timestamp()));
        send(stranger.request("r-" + stranger.apiKey(), KeyFixtures.BASEMAPS, 1, T0.plusSeconds(1)));
        flush(T0.plusSeconds(1));

        assertThat(topics.deadLetterReasons()).containsExactly(
                "request requestId holds an API key (km_…): give each request an id of the gateway's own");
        assertThat(realRejections()).singleElement().satisfies(rejection -> {
            assertThat(rejection.reason()).isEqualTo(RejectionReason.UNKNOWN_KEY);
            assertThat(rejection.requestId()).isEqualTo("r-url");
            assertThat(rejection.operation()).isEqualTo("GET /tile?token=" + masked);
            assertThat(rejection.itemId()).isEqualTo("item-" + masked);
            assertThat(rejection.referrer()).isEqualTo("https://app.example.com/?token=" + masked);
        });
    }

    /** A key whose keyId the default partitioner puts on partition 0 of 6 ({@code home}), or on another. */
    private static TestKey keyOnPartition(boolean home, String accountId, String credentialId) {
        while (true) {
            TestKey key = TestKey.create(accountId, credentialId, 1);
            if ((KafkaTopics.partitionOf(key.keyId(), 6) == 0) == home) {
                return key;
            }
        }
    }

    /** Texts ingest would refuse, produced directly: on the dead-letter topic; the longest allowed is billed. */
    @Test
    void aRequestWithTextsLongerThanIngestTakesGoesToTheDeadLetters() {
        TestKey key = publish(TestKey.create(ACME, "cred-20", 1), KeyStatus.ACTIVE, T0);
        RequestLog fine = key.request("r".repeat(RequestLog.MAX_REQUEST_ID_CHARS), KeyFixtures.BASEMAPS, 1,
                T0.plusSeconds(1));
        RequestLog empty = key.request("", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(2));
        RequestLog longId = key.request("r".repeat(RequestLog.MAX_REQUEST_ID_CHARS + 1), KeyFixtures.BASEMAPS, 1,
                T0.plusSeconds(3));
        RequestLog longReferrer = key.request("long-referrer", KeyFixtures.BASEMAPS, 1, T0.plusSeconds(4));
        longReferrer = new RequestLog(longReferrer.requestId(), longReferrer.keyId(), longReferrer.secretHash(),
                longReferrer.service(), longReferrer.operation(), 1, longReferrer.itemId(),
                "https://" + "a".repeat(RequestLog.MAX_TEXT_CHARS) + ".example.com", longReferrer.timestamp());
        send(fine, empty, empty, longId, longReferrer);
        flush(T0.plusSeconds(4));

        assertThat(topics.deadLetterReasons()).containsExactly("request requestId of 0 characters outside 1 to 128",
                "request requestId of 0 characters outside 1 to 128",
                "request requestId of 129 characters outside 1 to 128",
                "request referrer of 2068 characters longer than 2048");
        assertThat(basemapsRequestsOnNov1("cred-20")).isEqualTo(1);
        assertThat(droppedRecords()).isEqualTo(4.0);
    }

    /**
     * Units ingest would refuse, produced to the topic directly: on the dead-letter topic, never on a bill. The log
     * gets a line for them, not a stack trace each (a gateway with a broken clock would flood it).
     */
    @Test
    void aRequestWithUnitsOutsideIngestsBoundsGoesToTheDeadLetters() {
        TestKey key = publish(TestKey.create(ACME, "cred-19", 1), KeyStatus.ACTIVE, T0);
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try {
            send(key.request("credit-me", KeyFixtures.BASEMAPS, -1000, T0.plusSeconds(1)),
                    key.request("nothing", KeyFixtures.BASEMAPS, 0, T0.plusSeconds(2)),
                    key.request("overflow", KeyFixtures.BASEMAPS, Long.MAX_VALUE, T0.plusSeconds(3)),
                    key.request("fine", KeyFixtures.BASEMAPS, 7, T0.plusSeconds(4)));
            flush(T0.plusSeconds(4));
        } finally {
            root.detachAppender(logged);
        }
        List<ILoggingEvent> warnings = logged.list.stream()
                .filter(event -> event.getLevel().isGreaterOrEqual(Level.WARN)).toList();
        assertThat(warnings).extracting(ILoggingEvent::getThrowableProxy).containsOnlyNulls();
        assertThat(warnings).extracting(ILoggingEvent::getFormattedMessage).first().asString()
                .startsWith("Record keymeter.requests-0@0 (task 0_0, processor dedupe-requests) sent to "
                        + "keymeter.dead-letters: java.lang.IllegalArgumentException: request units -1000 outside 1 "
                        + "to 2147483647.");

        assertThat(topics.deadLetterReasons()).containsExactly("request units -1000 outside 1 to 2147483647",
                "request units 0 outside 1 to 2147483647",
                "request units 9223372036854775807 outside 1 to 2147483647");
        assertThat(latestUsage().get(UsageDaily.key(ACME, "cred-19", "basemaps", LocalDate.of(2026, 11, 1))))
                .isEqualTo(new UsageDaily(ACME, "cred-19", "basemaps", LocalDate.of(2026, 11, 1), 1, 7));
        assertThat(droppedRecords()).isEqualTo(3.0);
    }

    /**
     * A day's total that would pass what a long holds (4.3 billion requests at the most units each): the request
     * goes to the dead letters and the total stays. Wrapped, the day read negative units and billed a negative cost.
     */
    @Test
    void aRequestThatWouldWrapTheDaysTotalGoesToTheDeadLetters() {
        TestKey key = publish(TestKey.create(ACME, "cred-23", 1), KeyStatus.ACTIVE, T0);
        LocalDate day = LocalDate.of(2026, 11, 1);
        UsageDaily nearlyFull = new UsageDaily(ACME, "cred-23", "basemaps", day, 4_294_967_299L, Long.MAX_VALUE - 5);
        driver.<String, UsageDaily>getTimestampedKeyValueStore(MeteringTopology.USAGE_STORE)
                .put(nearlyFull.key(), ValueAndTimestamp.make(nearlyFull, T0.toEpochMilli()));
        send(key.request("one-too-many", KeyFixtures.BASEMAPS, 7, T0.plusSeconds(1)),
                key.request("still-fits", KeyFixtures.BASEMAPS, 5, T0.plusSeconds(2)));
        flush(T0.plusSeconds(2));

        var letter = topics.deadLetters.readRecordsToList();
        assertThat(letter).extracting(dead -> header(dead.headers(), "__streams.errors.message")).containsExactly(
                "usage of credential cred-23 for basemaps on 2026-11-01 would pass 9223372036854775807 requests or "
                        + "units; 1 request(s) of 7 units not added");
        // the request's usage as the adder got it: what a replay would add
        assertThat(Json.mapper().readTree(header(letter.get(0).headers(), "keymeter.errors.record")))
                .isEqualTo(Json.mapper().readTree("{\"key\":\"" + nearlyFull.key() + "\",\"value\":"
                        + Json.mapper().writeValueAsString(new UsageDaily(ACME, "cred-23", "basemaps", day, 1, 7))
                        + ",\"timestamp\":\"" + T0.plusSeconds(1) + "\"}"));
        assertThat(latestUsage().get(nearlyFull.key()))
                .isEqualTo(new UsageDaily(ACME, "cred-23", "basemaps", day, 4_294_967_300L, Long.MAX_VALUE));
        assertThat(droppedRecords()).isEqualTo(1.0);
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    private static String header(org.apache.kafka.common.header.Headers headers, String name) {
        return new String(headers.lastHeader(name).value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private TestKey publish(TestKey key, KeyStatus status, Instant at) {
        keys.pipeInput(key.keyId(), key.state(status, EXPIRES, at), at);
        return key;
    }

    /** A key published active at {@code T0} and invalidated at {@code at}. */
    private TestKey invalidated(TestKey key, Instant at) {
        publish(key, KeyStatus.ACTIVE, T0);
        return publish(key, KeyStatus.INVALIDATED, at);
    }

    private void send(RequestLog... logs) {
        for (RequestLog log : logs) {
            arrive(log, log.timestamp());
        }
    }

    /** A gateway's request reaches metering when it is made: the wall clock moves up to it (never back). */
    private void arrive(RequestLog log, Instant at) {
        if (at.isAfter(clock)) {
            advanceClock(Duration.between(clock, at));
        }
        requests.pipeInput(log.keyId(), log, at);
    }

    private void advanceClock(Duration duration) {
        driver.advanceWallClockTime(duration);
        clock = clock.plus(duration);
    }

    /** Requests wait out the join grace in real time: the clock moves past it, and a request arrives then. */
    private void flush(Instant lastRequest) {
        Instant at = lastRequest.plus(settings.joinGrace()).plusMillis(1);
        TestKey nobody = keyOnPartition(true, "tick", "tick"); // on partition 0 of any count: never a dead letter
        arrive(nobody.request("tick-" + ticks++, KeyFixtures.BASEMAPS, 1, at), at);
    }

    private Map<String, Long> dedupeEntries() {
        KeyValueStore<Bytes, Long> seen = driver.getKeyValueStore(MeteringTopology.DEDUPE_STORE);
        Map<String, Long> entries = new LinkedHashMap<>();
        try (KeyValueIterator<Bytes, Long> all = seen.all()) {
            all.forEachRemaining(entry -> {
                if (Deduplicator.isRequest(entry.key)) {
                    entries.put(Deduplicator.requestIdOf(entry.key), entry.value);
                }
            });
        }
        return entries;
    }

    private Map<String, UsageDaily> latestUsage() {
        return topics.latestUsage();
    }

    /** Accepted basemaps requests of an ACME credential on 2026-11-01, from the latest totals published. */
    private long basemapsRequestsOnNov1(String credentialId) {
        String key = UsageDaily.key(ACME, credentialId, "basemaps", LocalDate.of(2026, 11, 1));
        Map<String, UsageDaily> usage = latestUsage();
        assertThat(usage).as("usage of " + credentialId + " published").containsKey(key);
        return usage.get(key).requests();
    }

    private List<Rejection> realRejections() {
        return rejections.readValuesToList().stream().filter(r -> !r.requestId().startsWith("tick-")).toList();
    }

    /** {@code keymeter_metering_requests_total} of one outcome. */
    private double outcomeCount(String outcome) {
        return registry.get(MeteringTopology.REQUESTS_METRIC).tag(OutcomeCounters.OUTCOME_TAG, outcome).counter().count();
    }

    private double droppedRecords() {
        return MeteringTopics.droppedRecords(driver);
    }

    private void assertNothingDropped() {
        assertThat(driver.metrics().keySet()).anyMatch(name -> name.name().equals("dropped-records-total"));
        assertThat(droppedRecords()).isZero();
    }
}
