package io.keymeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.UsageDaily;
import io.keymeter.metering.enforcement.Deduplicator;
import io.keymeter.metering.enforcement.KeyValidator;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The production topology and configuration against a model of what metering promises, on seeded random
 * histories: credentials whose keys are created, regenerated, invalidated, edited, expired and deleted, and requests
 * (resends, forged secrets, unknown and missing keys, late and out-of-order ones, some without a requestId or a
 * timestamp, a few that ingest would refuse: from a clock years ahead, with units out of bounds, or with a requestId
 * or referrer longer than ingest takes) for them,
 * with key-state updates arriving late, and dead keys removed (a tombstone after their last state).
 * <p>
 * The model is the contract, not the implementation: a request is a duplicate when the same keyId and requestId was
 * first seen less than the dedupe window of request time ago (the newest request time seen); a request ingest
 * would refuse goes to the dead-letter topic and changes nothing; any other request is
 * judged by {@link KeyValidator} against its key's state at the request's own time in the whole history (the latest
 * update stamped at or before it). That is what the topology must produce whenever every key-state update arrives
 * before the first request stamped a join grace after it (live traffic) or stamped at or after it (a backlog judged
 * on arrival), or, for a key's creation in a backlog, within a grace of wall clock after requests that use it (the
 * judge holds a backlog request its key does not know): the generator delays updates only that far. Compared exactly: the usage totals, every rejection, the
 * rejection counts, the outcome counters; and every key used while invalidated or expired has alerts.
 * <p>
 * What this catches that the example tests cannot: the judge's in-memory latest states, the join buffer, the dedupe's
 * generations and filters and the two repartitions working together on thousands of interleavings. Longer runs:
 * {@code -Dmodel.seeds=1,2,3,...} and {@code -Dmodel.actions=N}.
 */
class MeteringModelTest {

    private static final int ACTIONS = Integer.getInteger("model.actions", 5_000);
    /** A backlog run's wall clock moves a second every this many arrivals. */
    private static final int BACKLOG_ARRIVALS_A_SECOND = 50;
    private static final Instant START = Instant.parse("2026-10-30T21:00:00Z");
    private static final List<String> ACCOUNTS = List.of("acme", "globex");
    private static final List<String> SERVICES =
            List.of("basemaps", "geocoding", "routing", "places", "no-such-service");
    private static final List<List<String>> PRIVILEGES = List.of(
            List.of("premium:user:basemaps", "premium:user:geocode:temporary"),
            List.of("premium:user:basemaps"),
            List.of("premium:user:geocode:temporary", "premium:user:networkanalysis:routing", "premium:user:places"));
    private static final List<List<String>> ITEM_ACCESS = List.of(List.of(), List.of(), List.of("item-1"),
            List.of("item-1", "item-2"));
    private static final List<List<String>> REFERRERS = List.of(List.of(), List.of(), List.of("https://*.example.com"),
            List.of("https://maps.example.org/app"));
    private static final String[] ITEMS = {null, null, "item-1", "item-2", "item-3"};
    private static final String[] SENT_REFERRERS = {null, "https://example.com/", "https://a.example.com/x",
            "https://maps.example.org/app/page", "https://evil.com/"};
    private static final Duration[] LIFETIMES = {Duration.ofMinutes(20), Duration.ofHours(3), Duration.ofDays(1),
            Duration.ofDays(10), Duration.ofDays(30), Duration.ofDays(30)};

    /**
     * How metering runs. Live: the wall clock moves with the requests, which wait out the grace; otherwise a
     * backlog, the wall clock far ahead, every request judged on arrival. The dedupe's window and in-memory filter
     * capacity (0: none; a few dozen: saturated filters, every lookup "maybe"); a short window makes the sweeper,
     * which runs on the wall clock as it ticks along, delete generations while resends still come.
     */
    record Setup(String name, boolean live, Duration dedupeWindow, long filterCapacity) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Setup> SETUPS = List.of(
            new Setup("live", true, Duration.ofDays(1), KeymeterProperties.Metering.DEFAULT_DEDUPE_FILTER_CAPACITY),
            new Setup("backlog", false, Duration.ofDays(1), KeymeterProperties.Metering.DEFAULT_DEDUPE_FILTER_CAPACITY),
            new Setup("live, 20-minute window, saturated filters", true, Duration.ofMinutes(20), 48),
            new Setup("backlog, 2-hour window, no filters", false, Duration.ofHours(2), 0));

    @TempDir
    Path dataDir;

    static Stream<Arguments> runs() {
        return Arrays.stream(System.getProperty("model.seeds", "1,2,3").split(","))
                .map(String::trim).map(Long::parseLong)
                .flatMap(seed -> SETUPS.stream().map(setup -> Arguments.of(seed, setup)));
    }

    @ParameterizedTest(name = "seed {0}, {1}")
    @MethodSource("runs")
    void theTopologyMetersExactlyWhatTheModelSays(long seed, Setup setup) {
        KeymeterProperties properties = new KeymeterProperties(List.of("all"), dataDir, null, null, null, null, null,
                new KeymeterProperties.Metering(setup.dedupeWindow(), setup.filterCapacity()), null, null, null);
        MeteringSettings settings = MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, 1); // one partition a topic, as the driver has
        Scenario scenario = new Scenario(new Random(seed), ACTIONS);
        long slack = setup.live() ? settings.joinGrace().toMillis() : 0;
        assertThat(settings.joinGrace()).as("what a backlog's raced key creations rely on (Scenario.Racing)")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        List<Object> arrivals = scenario.arrivals(slack);
        Model model = new Model(scenario.history, scenario.removedAt, settings.dedupeWindow());
        arrivals.forEach(model::arrive);

        Instant wallClock = setup.live() ? START : scenario.end.plus(Duration.ofDays(1));
        // the model keeps every key state and every day's rejection count: a run longer than the key history's
        // retention (which metering forgets both after) is outside what it models
        assertThat(Duration.between(START, scenario.end.plus(Duration.ofDays(2))))
                .as("the scenario's span (fewer -Dmodel.actions)").isLessThan(settings.historyRetention());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Properties config = StreamsFactory.config(Map.of("bootstrap.servers", "unused:9092"), properties,
                MeteringConfiguration.APP_NAME, Map.of());
        try (TopologyTestDriver driver = new TopologyTestDriver(MeteringTopology.build(settings, registry), config,
                wallClock)) {
            Run run = new Run(driver, wallClock, setup.live());
            run.pipeAll(arrivals);
            // the last requests wait out the grace until real time passes it
            run.advanceClockTo(scenario.end.plus(Duration.ofDays(2)));

            assertThat(run.topics.latestUsage()).as("usage totals").isEqualTo(model.usage);
            assertThat(run.rejections()).as("rejections").containsExactlyInAnyOrderElementsOf(model.rejections);
            assertThat(run.rejectionCounts()).as("rejection counts").isEqualTo(model.rejectionCounts);
            assertThat(outcomes(registry)).as("outcome counters").isEqualTo(model.outcomes);
            assertAlerts(run.alerts(), model);
            assertThat(driver.getKeyValueStore(MeteringTopology.JOIN_BUFFER_STORE).approximateNumEntries())
                    .as("nothing left waiting").isZero();
            assertThat(run.deadLetters()).as("requests on the dead-letter topic").isEqualTo(model.deadLetters);
            assertThat(MeteringTopics.droppedRecords(driver)).as("dropped records: the dead letters")
                    .isEqualTo((double) model.deadLetters);
            assertTheScenarioReachedEveryCase(setup, scenario, model, run);
            System.out.printf("seed %d, %s: %d arrivals, %d late key-state updates, %d resends counted again, "
                            + "%d of %d dedupe entries left, %d dead letters, %d keys removed, %d / %d requests for "
                            + "them after / from before the removal, %d backlog requests before their key's "
                            + "creation, %s%n", seed, setup, arrivals.size(),
                    scenario.lateUpdates, model.recounted, run.dedupeEntries(), model.firstSeen.size(),
                    model.deadLetters, scenario.removedAt.size(), model.usesAfterRemoval, model.usesFromBeforeRemoval,
                    scenario.racedUses, model.outcomes);
        }
    }

    /** So that a scenario too tame to test anything fails instead of passing. */
    private static void assertTheScenarioReachedEveryCase(Setup setup, Scenario scenario, Model model, Run run) {
        assertThat(model.outcomes.keySet()).as("outcomes reached").containsAll(Stream.concat(
                Stream.of(MeteringTopology.ACCEPTED, MeteringTopology.DUPLICATE),
                Arrays.stream(RejectionReason.values()).filter(r -> r != RejectionReason.MALFORMED_KEY) // ingest's
                        .map(RejectionReason::code)).toList());
        assertThat(model.recounted).as("resends a window or more later, counted again").isPositive();
        assertThat(model.usesAfterRemoval).as("requests for a removed key stamped after its tombstone").isPositive();
        assertThat(model.usesFromBeforeRemoval).as("requests for a removed key stamped before its tombstone, late")
                .isPositive();
        assertThat(model.deadLetters).as("requests ingest would refuse").isPositive();
        if (setup.dedupeWindow().compareTo(Duration.ofDays(1)) < 0) {
            assertThat(run.dedupeEntries()).as("entries left after the sweeps").isLessThan(model.firstSeen.size() / 2);
        }
        if (setup.live()) {
            assertThat(scenario.lateUpdates).as("key-state updates arriving after requests they govern").isPositive();
        } else {
            assertThat(scenario.racedUses).as("backlog requests arriving just before their key's creation").isPositive();
        }
    }

    /** Every key used while invalidated or expired has alerts, their counts grow, and never past its stale uses. */
    private static void assertAlerts(List<SecurityAlert> alerts, Model model) {
        Map<String, List<SecurityAlert>> byKey = new HashMap<>();
        alerts.forEach(alert -> byKey.computeIfAbsent(alert.keyId(), k -> new ArrayList<>()).add(alert));
        assertThat(byKey.keySet()).as("keys alerted").isEqualTo(model.staleUses.keySet());
        byKey.forEach((keyId, raised) -> {
            assertThat(raised).extracting(SecurityAlert::count).isSorted().doesNotHaveDuplicates();
            assertThat(raised.get(raised.size() - 1).count()).isLessThanOrEqualTo(model.staleUses.get(keyId));
            assertThat(raised).extracting(SecurityAlert::credentialId).containsOnly(model.credentialOf.get(keyId));
        });
    }

    private static Map<String, Long> outcomes(SimpleMeterRegistry registry) {
        Map<String, Long> counts = new TreeMap<>();
        registry.get(MeteringTopology.REQUESTS_METRIC).counters().forEach(counter -> {
            if (counter.count() > 0) {
                counts.put(counter.getId().getTag(OutcomeCounters.OUTCOME_TAG), (long) counter.count());
            }
        });
        return counts;
    }

    /** A key-state update (null state: the key deleted) as piped to {@code keymeter.api-keys}. */
    record KeyEvent(String keyId, ApiKeyState state, long at) {
    }

    /**
     * A request as a gateway sends it: with its record time (its timestamp, or the time it carries none of).
     * {@code malformed}: one ingest would refuse, produced to the topic directly (stamped a year or more ahead by a
     * broken clock, with units below 1 or past the maximum, or a requestId or referrer too long); it must go to the
     * dead-letter topic and change nothing else.
     */
    record Request(RequestLog log, long at, boolean malformed) {
    }

    /** One key as the generator knows it: its secret's hash, its latest state and when that began. */
    private static final class Key {
        final String keyId;
        final String secretHash;
        ApiKeyState state;
        long lastChange;

        Key(String keyId, String secretHash) {
            this.keyId = keyId;
            this.secretHash = secretHash;
        }
    }

    /** A seeded history, in the order things happened (time order, but for late requests and resends). */
    private static final class Scenario {
        final Random random;
        final List<Object> happened = new ArrayList<>();
        final Map<String, TreeMap<Long, ApiKeyState>> history = new HashMap<>();
        final List<Key> keys = new ArrayList<>();
        /** Each credential's keys in slots 1 and 2 (index 0 unused). */
        final Map<String, Key[]> slots = new TreeMap<>();
        final List<Request> sent = new ArrayList<>();
        /** Dead keys removed (a tombstone after their last state), and when. */
        final Map<String, Long> removedAt = new HashMap<>();
        Instant end;
        /** How many items a backlog's key creation may come after requests that use it (see {@link Racing}). */
        static final int MAX_RACE = 20;

        /** Key-state updates that arrived after a request stamped at or after them. */
        int lateUpdates;
        /** Backlog requests that arrived before their key's creation, stamped after it. */
        int racedUses;
        private long t = START.toEpochMilli();
        private int requests;

        Scenario(Random random, int actions) {
            this.random = random;
            for (int i = 0; i < 6; i++) {
                slots.put("cred-" + i, new Key[3]);
            }
            for (int i = 0; i < actions; i++) {
                t += step();
                if (i < 8 || random.nextInt(100) < 9) {
                    changeKeys();
                } else if (random.nextInt(100) < 2) {
                    removeDeadKey();
                } else if (random.nextInt(100) < 5 && !sent.isEmpty()) {
                    resend();
                } else {
                    request();
                }
            }
            end = Instant.ofEpochMilli(t);
        }

        /** Mostly milliseconds apart, sometimes minutes, now and then hours: about a week in all. */
        private long step() {
            int r = random.nextInt(1000);
            if (r < 600) {
                return 1 + random.nextInt(400);
            }
            return r < 995 ? 1 + random.nextInt(120_000) : 1 + random.nextInt(8 * 3_600_000);
        }

        private void changeKeys() {
            String credentialId = "cred-" + random.nextInt(slots.size());
            Key[] held = slots.get(credentialId);
            int slot = 1 + random.nextInt(2);
            Key key = held[slot];
            switch (key == null ? 0 : random.nextInt(10)) {
                case 0, 1, 2 -> { // generate (or regenerate: the old key dies at that instant)
                    if (key != null) {
                        publish(key, withStatus(key.state, KeyStatus.INVALIDATED));
                    }
                    held[slot] = create(credentialId, slot);
                }
                case 3, 4 -> { // invalidate
                    publish(key, withStatus(key.state, KeyStatus.INVALIDATED));
                    held[slot] = null;
                }
                case 5, 6 -> publish(key, edited(key.state)); // a state republished with other access
                case 7 -> { // privileges edited: every key of the credential invalidated
                    for (int s = 1; s <= 2; s++) {
                        if (held[s] != null) {
                            publish(held[s], withStatus(held[s].state, KeyStatus.INVALIDATED));
                            held[s] = null;
                        }
                    }
                }
                case 8 -> { // marked expired
                    publish(key, withStatus(key.state, KeyStatus.EXPIRED));
                    held[slot] = null;
                }
                default -> { // credential deleted: tombstones for its keys (its id comes back later, as a new one)
                    for (int s = 1; s <= 2; s++) {
                        if (held[s] != null) {
                            publish(held[s], null);
                            held[s] = null;
                        }
                    }
                }
            }
        }

        /**
         * A dead key (invalidated or expired, so in no slot) removed from the topic: the tombstone the credential
         * store writes {@code keymeter.keys.forget-after} after its last state (here sooner, so that late requests
         * from before it still come).
         */
        private void removeDeadKey() {
            List<Key> dead = keys.stream().filter(k -> k.state != null && k.state.status() != KeyStatus.ACTIVE).toList();
            if (!dead.isEmpty()) {
                Key key = dead.get(random.nextInt(dead.size()));
                publish(key, null);
                removedAt.put(key.keyId, t);
            }
        }

        private Key create(String credentialId, int slot) {
            String accountId = ACCOUNTS.get(credentialId.hashCode() & 1);
            Key key = new Key(String.format("k%015d", Math.floorMod(random.nextLong(), 1_000_000_000_000_000L)),
                    ApiKeys.hashSecret("secret-" + keys.size()));
            keys.add(key);
            Instant at = Instant.ofEpochMilli(t);
            publish(key, new ApiKeyState(key.keyId, credentialId, accountId, slot, KeyStatus.ACTIVE,
                    at.plus(LIFETIMES[random.nextInt(LIFETIMES.length)]), key.secretHash, pick(PRIVILEGES),
                    pick(ITEM_ACCESS), pick(REFERRERS), at));
            return key;
        }

        private ApiKeyState withStatus(ApiKeyState s, KeyStatus status) {
            return new ApiKeyState(s.keyId(), s.credentialId(), s.accountId(), s.slot(), status, s.expiresAt(),
                    s.secretHash(), s.privileges(), s.itemAccess(), s.referrers(), Instant.ofEpochMilli(t));
        }

        private ApiKeyState edited(ApiKeyState s) {
            return new ApiKeyState(s.keyId(), s.credentialId(), s.accountId(), s.slot(), s.status(), s.expiresAt(),
                    s.secretHash(), pick(PRIVILEGES), pick(ITEM_ACCESS), pick(REFERRERS), Instant.ofEpochMilli(t));
        }

        private void publish(Key key, ApiKeyState state) {
            key.state = state;
            key.lastChange = t;
            history.computeIfAbsent(key.keyId, k -> new TreeMap<>()).put(t, state);
            happened.add(new KeyEvent(key.keyId, state, t));
        }

        private void request() {
            int who = random.nextInt(100);
            String keyId;
            String secretHash;
            String service = pick(SERVICES);
            long at = t;
            if (who < 3) { // a keyId never issued
                keyId = String.format("never%011d", Math.floorMod(random.nextLong(), 100_000_000_000L));
                secretHash = ApiKeys.hashSecret("guess");
            } else if (who < 4) { // no keyId at all (a producer writing straight to the topic)
                keyId = null;
                secretHash = ApiKeys.hashSecret("guess");
            } else {
                Key key = pickKey();
                keyId = key.keyId;
                secretHash = random.nextInt(100) < 4 ? ApiKeys.hashSecret("forged") : key.secretHash;
                if (key.state != null && random.nextInt(100) < 60) { // mostly a service the key is meant for
                    service = ServiceCatalog.byPrivilege(pick(key.state.privileges())).orElseThrow().service();
                }
                int when = random.nextInt(100);
                if (when < 4) {
                    at = key.lastChange; // exactly at the instant the key last changed
                } else if (when < 14) {
                    at = Math.max(START.toEpochMilli(), t - random.nextInt(2 * 3_600_000)); // late, up to 2 h
                }
            }
            int id = random.nextInt(100);
            String requestId = id < 2 ? null
                    : id < 5 && !sent.isEmpty() ? sent.get(sent.size() - 1).log().requestId() // another key's counter
                    : "r-" + requests;
            requests++;
            Instant timestamp = random.nextInt(100) < 3 ? null : Instant.ofEpochMilli(at);
            RequestLog log = new RequestLog(requestId, keyId, secretHash, service, "op", 1 + random.nextInt(5),
                    ITEMS[random.nextInt(ITEMS.length)], SENT_REFERRERS[random.nextInt(SENT_REFERRERS.length)],
                    timestamp);
            int malformed = random.nextInt(1000);
            if (malformed < 8) { // what ingest would refuse: a clock years ahead, units out of bounds, long texts,
                // a hash in uppercase
                long units = malformed < 3 || malformed > 4 ? log.units()
                        : malformed == 3 ? -random.nextInt(1000) : Long.MAX_VALUE;
                at = malformed < 3 ? START.toEpochMilli() + Duration.ofDays(365 + random.nextInt(80 * 365)).toMillis()
                        : at;
                String longId = malformed == 5 ? "r".repeat(RequestLog.MAX_REQUEST_ID_CHARS + 1) : log.requestId();
                String referrer = malformed == 6 ? "x".repeat(RequestLog.MAX_TEXT_CHARS + 1) : log.referrer();
                String hash = malformed == 7 && log.secretHash() != null ? log.secretHash().toUpperCase()
                        : log.secretHash();
                log = new RequestLog(longId, log.keyId(), hash, log.service(), log.operation(),
                        units, log.itemId(), referrer, Instant.ofEpochMilli(at));
                happened.add(new Request(log, at, true));
                return;
            }
            Request request = new Request(log, at, false);
            sent.add(request);
            happened.add(request);
        }

        /** Mostly a key in use now, sometimes any key ever issued. */
        private Key pickKey() {
            List<Key> held = slots.values().stream().flatMap(Arrays::stream).filter(k -> k != null).toList();
            return held.isEmpty() || random.nextInt(100) < 25 ? keys.get(random.nextInt(keys.size()))
                    : held.get(random.nextInt(held.size()));
        }

        /** The same log line again: mostly a recent one, sometimes one from days ago. */
        private void resend() {
            int from = random.nextInt(100) < 70 ? Math.max(0, sent.size() - 300) : 0;
            happened.add(sent.get(from + random.nextInt(sent.size() - from)));
        }

        private <T> T pick(List<T> options) {
            return options.get(random.nextInt(options.size()));
        }

        /**
         * The arrival order: what happened, with a third of the key-state updates held back a few records, each
         * at most until just before the first request stamped {@code slack} or more after it; in a backlog (no
         * slack), a third of key creations also up to {@code MAX_RACE} items later, whatever requests come.
         */
        List<Object> arrivals(long slack) {
            List<Object> arrived = new ArrayList<>();
            List<Delayed> delayed = new ArrayList<>();
            Set<String> created = new HashSet<>();
            long newestRequest = Long.MIN_VALUE;
            for (Object next : happened) {
                if (next instanceof Request request && !request.malformed()) {
                    release(delayed, arrived, newestRequest, event -> request.at() >= event.at() + slack, false);
                    newestRequest = Math.max(newestRequest, request.at());
                }
                if (next instanceof KeyEvent event && slack == 0 && event.state() != null
                        && created.add(event.keyId()) && random.nextInt(3) == 0) {
                    delayed.add(new Delayed(event, arrived.size(), 1 + random.nextInt(MAX_RACE), true));
                } else if (next instanceof KeyEvent event && random.nextInt(3) == 0) {
                    delayed.add(new Delayed(event, arrived.size(), 1 + random.nextInt(30), false));
                } else {
                    arrived.add(next);
                }
                delayed.forEach(d -> d.left--);
                release(delayed, arrived, newestRequest, event -> false, false);
            }
            release(delayed, arrived, newestRequest, event -> false, true);
            return arrived;
        }

        /**
         * A key-state update held back: for at most {@code left} more items, and, unless {@code raced}, no longer
         * than until a request stamped the slack after it comes. A raced one is a backlog's key creation read after
         * requests that use it (Streams trusts the lag of its last fetch of the key-state partition): it arrives up to
         * {@code MAX_RACE} items later, plus the held updates released meanwhile (each held at most 30 items, and all
         * released by the next fresh request). The judge holds such a request a grace of wall clock, which a backlog
         * run advances a second every 50 arrivals: the creation must come within 50 arrivals of the request, checked
         * as it is released (with a grace of 2 s or more).
         */
        private static final class Delayed {
            final KeyEvent event;
            final int from;
            final boolean raced;
            int left;

            Delayed(KeyEvent event, int from, int left, boolean raced) {
                this.event = event;
                this.from = from;
                this.left = left;
                this.raced = raced;
            }
        }

        /** Lets through what has waited its count, what is {@code due} (raced ones never are), or, at the end, all. */
        private void release(List<Delayed> delayed, List<Object> arrived, long newestRequest, Predicate<KeyEvent> due,
                             boolean all) {
            for (Iterator<Delayed> it = delayed.iterator(); it.hasNext(); ) {
                Delayed next = it.next();
                if (all || next.left <= 0 || (!next.raced && due.test(next.event))) {
                    if (next.raced) {
                        countRacedUses(next, arrived, all);
                    } else if (next.event.at() <= newestRequest) {
                        lateUpdates++;
                    }
                    arrived.add(next.event);
                    it.remove();
                }
            }
        }

        private void countRacedUses(Delayed raced, List<Object> arrived, boolean atTheEnd) {
            assertThat(atTheEnd || arrived.size() - raced.from < BACKLOG_ARRIVALS_A_SECOND)
                    .as("a raced creation within a grace of the requests before it").isTrue();
            for (Object before : arrived.subList(raced.from, arrived.size())) {
                if (before instanceof Request request && !request.malformed()
                        && raced.event.keyId().equals(request.log().keyId()) && request.at() >= raced.event.at()) {
                    racedUses++;
                }
            }
        }
    }

    /** What metering must produce from the arrivals, by the contract's rules. */
    private static final class Model {
        final Map<String, TreeMap<Long, ApiKeyState>> history;
        final long windowMs;
        final Map<String, Long> firstSeen = new HashMap<>();
        final Map<String, UsageDaily> usage = new HashMap<>();
        final List<String> rejections = new ArrayList<>();
        final Map<String, Long> rejectionCounts = new HashMap<>();
        final Map<String, Long> outcomes = new TreeMap<>();
        final Map<String, Long> staleUses = new HashMap<>();
        final Map<String, String> credentialOf = new HashMap<>();
        long requestTime = Long.MIN_VALUE;
        /** Resends counted again, their first sight a window or more of request time ago. */
        long recounted;
        long deadLetters;
        final Map<String, Long> removedAt;
        /** Removed keys whose tombstone has arrived. */
        final Set<String> removalArrived = new HashSet<>();
        /** Requests for a removed key arriving after its tombstone: stamped at or after it, or before it (late). */
        long usesAfterRemoval;
        long usesFromBeforeRemoval;

        Model(Map<String, TreeMap<Long, ApiKeyState>> history, Map<String, Long> removedAt, Duration window) {
            this.history = history;
            this.removedAt = removedAt;
            this.windowMs = window.toMillis();
        }

        void arrive(Object next) {
            if (next instanceof KeyEvent event && event.state() == null && removedAt.containsKey(event.keyId())) {
                removalArrived.add(event.keyId());
            }
            if (!(next instanceof Request request)) {
                return; // key states: the model reads the whole history
            }
            if (request.malformed()) {
                deadLetters++;
                return;
            }
            RequestLog log = request.log();
            if (log.requestId() != null) {
                requestTime = Math.max(requestTime, request.at());
                String identity = log.keyId() + " " + log.requestId();
                Long seen = firstSeen.get(identity);
                if (seen != null && seen > requestTime - windowMs) {
                    outcomes.merge(MeteringTopology.DUPLICATE, 1L, Long::sum);
                    return;
                }
                if (seen != null) {
                    recounted++;
                }
                firstSeen.put(identity, requestTime);
            }
            Instant at = Instant.ofEpochMilli(request.at());
            if (removalArrived.contains(log.keyId())) {
                if (request.at() >= removedAt.get(log.keyId())) {
                    usesAfterRemoval++;
                } else {
                    usesFromBeforeRemoval++;
                }
            }
            ApiKeyState state = stateAt(log.keyId(), request.at());
            RejectionReason reason = KeyValidator.check(state, log.secretHash(), log.service(), log.itemId(),
                    log.referrer(), at).orElse(null);
            LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
            if (reason == null) {
                outcomes.merge(MeteringTopology.ACCEPTED, 1L, Long::sum);
                String key = UsageDaily.key(state.accountId(), state.credentialId(), log.service(), day);
                UsageDaily before = usage.getOrDefault(key,
                        new UsageDaily(state.accountId(), state.credentialId(), log.service(), day, 0, 0));
                usage.put(key, new UsageDaily(before.accountId(), before.credentialId(), before.service(), day,
                        before.requests() + 1, before.units() + log.units()));
                return;
            }
            outcomes.merge(reason.code(), 1L, Long::sum);
            String credentialId = reason == RejectionReason.UNKNOWN_KEY ? null : state.credentialId();
            rejections.add(describe(log.requestId(), log.keyId(), credentialId, at, reason));
            rejectionCounts.merge((credentialId == null ? "-" : credentialId) + "/" + day + "/" + reason.code(), 1L,
                    Long::sum);
            // a use alerts once the key has been dead the grace: since its invalidation (the state's start), or expiry
            // (or the start of a state marking it expired before its expiresAt, whichever came first)
            Instant deadSince = reason == RejectionReason.INVALIDATED ? state.updatedAt()
                    : reason == RejectionReason.EXPIRED ? expiredSince(state) : null;
            if (credentialId != null && deadSince != null
                    && !at.isBefore(deadSince.plus(MeteringSettings.DEFAULT_ALERT_GRACE))) {
                staleUses.merge(log.keyId(), 1L, Long::sum);
                credentialOf.put(log.keyId(), credentialId);
            }
        }

        private static Instant expiredSince(ApiKeyState state) {
            if (state.status() == KeyStatus.EXPIRED && state.updatedAt().isBefore(state.expiresAt())) {
                return state.updatedAt();
            }
            return state.expiresAt();
        }

        private ApiKeyState stateAt(String keyId, long at) {
            TreeMap<Long, ApiKeyState> states = keyId == null ? null : history.get(keyId);
            Map.Entry<Long, ApiKeyState> entry = states == null ? null : states.floorEntry(at);
            return entry == null ? null : entry.getValue();
        }
    }

    static String describe(String requestId, String keyId, String credentialId, Instant at, RejectionReason reason) {
        return requestId + " " + keyId + " " + credentialId + " " + at + " " + reason.code();
    }

    /** The production topology in a TopologyTestDriver, fed the arrivals. */
    private static final class Run {
        final TopologyTestDriver driver;
        final MeteringTopics topics;
        final boolean live;
        Instant clock;

        Run(TopologyTestDriver driver, Instant clock, boolean live) {
            this.driver = driver;
            this.topics = new MeteringTopics(driver);
            this.clock = clock;
            this.live = live;
        }

        /**
         * Pipes everything. Live, each request arrives when it is made: the wall clock moves up to it (a malformed
         * one excepted). A backlog's clock is far ahead already: a second passes every 50 records. Either
         * way the wall-clock punctuations (the sweeper, the filters' rebuild, the judge's check) run as they go.
         */
        void pipeAll(List<Object> arrivals) {
            for (int i = 0; i < arrivals.size(); i++) {
                Object next = arrivals.get(i);
                if (live && next instanceof Request request && !request.malformed()) {
                    advanceClockTo(Instant.ofEpochMilli(request.at()));
                } else if (!live && i % BACKLOG_ARRIVALS_A_SECOND == BACKLOG_ARRIVALS_A_SECOND - 1) {
                    advanceClockTo(clock.plusSeconds(1));
                }
                pipe(next);
            }
        }

        void advanceClockTo(Instant at) {
            if (at.isAfter(clock)) {
                driver.advanceWallClockTime(Duration.between(clock, at));
                clock = at;
            }
        }

        long deadLetters() {
            return topics.deadLetters.readRecordsToList().size();
        }

        private void pipe(Object next) {
            if (next instanceof KeyEvent event) {
                topics.keys.pipeInput(event.keyId(), event.state(), event.at());
            } else if (next instanceof Request request) {
                topics.requests.pipeInput(request.log().keyId(), request.log(), request.at());
            }
        }

        List<String> rejections() {
            return topics.rejections.readValuesToList().stream()
                    .map(r -> describe(r.requestId(), r.keyId(), r.credentialId(), r.timestamp(), r.reason())).toList();
        }

        Map<String, Long> rejectionCounts() {
            KeyValueStore<String, Long> counts = driver.getKeyValueStore(MeteringTopology.REJECTION_COUNTS_STORE);
            Map<String, Long> all = new HashMap<>();
            try (KeyValueIterator<String, Long> it = counts.all()) {
                it.forEachRemaining(kv -> all.put(kv.key, kv.value));
            }
            return all;
        }

        long dedupeEntries() {
            KeyValueStore<Bytes, Long> seen = driver.getKeyValueStore(MeteringTopology.DEDUPE_STORE);
            long entries = 0;
            try (KeyValueIterator<Bytes, Long> it = seen.all()) {
                while (it.hasNext()) {
                    if (Deduplicator.isRequest(it.next().key)) {
                        entries++;
                    }
                }
            }
            return entries;
        }

        List<SecurityAlert> alerts() {
            return topics.alerts.readValuesToList();
        }
    }
}
