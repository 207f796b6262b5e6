package io.keymeter.app.proof;

import static io.keymeter.app.proof.TransactionKills.killInsideTransaction;
import static io.keymeter.app.proof.TransactionKills.staysOpen;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.proof.TransactionKills.OpenTransaction;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Rejection;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.ConsumerGroups;
import io.keymeter.testsupport.PrometheusSamples;
import io.keymeter.testsupport.TopicReader;
import io.keymeter.testsupport.Transactions;
import io.keymeter.testsupport.load.Ledger;
import io.keymeter.testsupport.load.LoadGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's EOS system test, on Keymeter: a seeded generator with a ground-truth ledger feeds metering while metering,
 * running in its own JVM, is killed with SIGKILL at random moments (with a commit interval long enough that kills
 * land inside open transactions) and restarted. Afterwards every daily total and every rejection read with
 * {@code read_committed} must equal the ledger exactly, and records of aborted transactions must exist (else every kill
 * fell between transactions and nothing about recovering from one was proved). The same run with
 * {@code at_least_once} must fail the check.
 * <p>
 * Two more runs check the same with two instances sharing the work (rebalances) and with live traffic, whose
 * requests wait in the join buffer when the kills land.
 * <p>
 * The short version (10,000 requests) runs in the test command; the long one: {@code -Dproof.requests=1000000}
 * (see README, "Proof"). A 6 s session timeout lets the restarted instance take over without waiting out the
 * default 45 s for the killed one; it changes nothing about what is checked.
 */
@Timeout(900)
class ExactlyOnceCrashTest {

    private static final int REQUESTS = Integer.getInteger("proof.requests", 10_000);
    private static final int KILLS = Integer.getInteger("proof.kills", 3);
    private static final int LIVE_REQUESTS_MAX = 50_000;
    /** Metering's consumer group: its Kafka Streams application id. */
    private static final String METERING_GROUP = StreamsFactory.applicationId(MeteringConfiguration.APP_NAME);
    /** Topics metering writes in its transactions: a kill inside one leaves aborted records on them. */
    private static final List<String> OUTPUTS = List.of(Topics.REJECTIONS.name(), Topics.USAGE_DAILY.name(),
            StreamsFactory.changelogTopic(MeteringConfiguration.APP_NAME, MeteringTopology.DEDUPE_STORE));

    @TempDir
    Path dir;

    @Test
    void exactlyOnceBillsEveryRequestOnceAcrossSigkills() throws Exception {
        runWithCrashes("exactly_once_v2", 42, ExactlyOnceCrashTest::awaitOutputsEqualTheLedger);
        // transactional state stores: a restarted stream thread keeps its stores instead of wiping and restoring
        // them (without them, every restart after a SIGKILL logs "Encounter corrupted task" for each task)
        assertThat(Files.readAllLines(Path.of("target", "proof-logs", "metering-exactly_once_v2.log")))
                .as("stream threads that wiped their stores after a kill")
                .noneMatch(line -> line.contains("Encounter corrupted task"));
    }

    /**
     * Two metering instances share the work, as two pods would: the second joins while the first meters (its tasks
     * move over, their stores restored from the changelogs), is SIGKILLed while it judges (the first takes its tasks
     * back once its session times out), restarts on its own disk, and then the first is SIGKILLed while both work
     * on the last chunk, sent paced, inside a transaction of its own: one of the transactional ids noted while it
     * worked alone, in progress on the outputs, begun 0.4 to 1 s before, still open 1 s into a SIGSTOP that
     * precedes the kill, and still open 1 s after the kill (so it can only be aborted). It is restarted. Every daily
     * total and every rejection must equal the ledger, the second instance must have judged requests of its own (else
     * no task ever moved and nothing was proved), and the kills must have aborted records.
     */
    @Test
    void exactlyOnceBillsEveryRequestOnceAcrossRebalancesBetweenTwoInstances() throws Exception {
        LoadGenerator.Scenario scenario = new LoadGenerator(LoadGenerator.Settings.of(7, REQUESTS,
                Instant.parse("2026-10-30T12:00:00Z"))).generate();
        List<LoadGenerator.Request> requests = scenario.requests();
        int chunk = (requests.size() + 3) / 4;
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
                KafkaProducer<String, Object> producer = producer(broker)) {
            Path logs = Files.createDirectories(Path.of("target", "proof-logs"));
            Files.deleteIfExists(logs.resolve("metering-a.log"));
            Files.deleteIfExists(logs.resolve("metering-b.log"));
            // a joining instance takes over tasks at once, however much it has to restore (Kafka's default moves a
            // task only to an instance within 10,000 records of its state: with -Dproof.requests=1000000 the second
            // instance would only warm up, judge nothing, and prove nothing)
            String[] argsA = withArgs(meteringArgs(broker, dir.resolve("metering-a"), "exactly_once_v2"),
                    "--spring.kafka.streams.properties.acceptable.recovery.lag=" + Long.MAX_VALUE);
            String[] argsB = withArgs(meteringArgs(broker, dir.resolve("metering-b"), "exactly_once_v2"),
                    "--spring.kafka.streams.properties.acceptable.recovery.lag=" + Long.MAX_VALUE);
            AtomicReference<ChildApp> a = new AtomicReference<>(new ChildApp(logs.resolve("metering-a.log"), argsA).start());
            AtomicReference<ChildApp> b = new AtomicReference<>();
            try {
                a.get().awaitHealthy(Duration.ofSeconds(120));
                // in its data dir, earlier copies deleted at each start (RocksDB's own copy in /tmp outlived each kill)
                Path nativeDirA = dir.toRealPath().resolve("metering-a").resolve("native");
                assertThat(a.get().rocksDbLibrary()).as("RocksDB's native library, as mapped by the first instance")
                        .hasValueSatisfying(lib -> assertThat(lib).startsWith(nativeDirA));
                sendKeyStatesAndAwaitThem(broker, producer, scenario.keyStates());
                sendAndAwaitWork(broker, producer, requests.subList(0, chunk));
                // a has worked alone so far: every transactional id the brokers know is one of its stream threads'
                Set<String> idsOfA = transactionalIds(broker);
                assertThat(idsOfA).as("transactional ids of the first instance").isNotEmpty();

                b.set(new ChildApp(logs.resolve("metering-b.log"), argsB).start().awaitHealthy(Duration.ofSeconds(120)));
                sendAll(producer, requests.subList(chunk, 2 * chunk));
                await("the second instance judges requests of its own").atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                        .until(() -> judgedRequests(b.get()) > 0);
                b.get().kill(); // while it judges: its share of the chunk may be done before a transaction is seen
                System.out.println("killed metering b at " + Instant.now());

                sendAndAwaitWork(broker, producer, requests.subList(2 * chunk, 3 * chunk));
                b.set(new ChildApp(logs.resolve("metering-b.log"), argsB).start().awaitHealthy(Duration.ofSeconds(120)));
                // the last chunk goes out paced over about 8 s and a dies while both instances work on it, inside a
                // transaction of its own that has written to the outputs (sent at once, the chunk was judged in a
                // moment and the kill often fell between transactions: 3 aborted records in one CI run)
                List<LoadGenerator.Request> last = requests.subList(Math.min(requests.size(), 3 * chunk), requests.size());
                AtomicInteger sent = new AtomicInteger();
                ExecutorService pacer = Executors.newSingleThreadExecutor();
                try {
                    Future<?> pacing = pacer.submit(() -> {
                        sendPaced(producer, last, sent);
                        return null;
                    });
                    await("a quarter of the last chunk sent").atMost(Duration.ofSeconds(60))
                            .until(() -> sent.get() >= last.size() / 4);
                    try (Admin admin = admin(broker)) {
                        // the chunk is paced over 8 s and the wait starts 2 s in: longer than 30 s, none is coming
                        OpenTransaction open = killInsideTransaction(admin, a.get(), () -> idsOfA, OUTPUTS,
                                Duration.ofSeconds(30)).orElseThrow(() -> new AssertionError(
                                        "no transaction of the first instance open on the outputs within 30 s"));
                        // a is dead: a transaction of its still open on the outputs a second later can only be
                        // aborted (a commit sent before the freeze would have landed by then)
                        assertThat(staysOpen(admin, open, OUTPUTS, Duration.ofSeconds(1)))
                                .as("the first instance's transaction %s open on the outputs for 1 s after its kill", open)
                                .isTrue();
                        System.out.println("killed metering a inside its transaction " + open);
                    }
                    pacing.get(120, TimeUnit.SECONDS);
                } finally {
                    pacer.shutdownNow();
                }
                System.out.println("killed metering a at " + Instant.now());
                a.set(new ChildApp(logs.resolve("metering-a.log"), argsA).start().awaitHealthy(Duration.ofSeconds(120)));

                awaitOutputsEqualTheLedger(broker, scenario.ledger());
                // counted with both stopped: a transaction open between the two reads would count as aborted
                a.get().close();
                b.get().close();
                assertThat(abortedRecords(broker, OUTPUTS)).as("records of transactions the kills aborted").isPositive();
            } finally {
                a.get().close();
                if (b.get() != null) {
                    b.get().close();
                }
            }
        }
    }

    /**
     * Live traffic: requests and key-state changes stamped now and sent at their own time, so each request waits out
     * the join grace (5 s here) in the join buffer, a changelogged in-memory store, and every kill finds requests
     * waiting there, some of them committed as seen by the dedupe but not judged yet. The crash proofs above send
     * old requests, which are judged on arrival and never wait. Metering is SIGKILLed three times during the minute,
     * each time inside a transaction that has written to the buffer's changelog (after a restart, metering first
     * judges a backlog, most of it at once, and a kill then found nothing waiting), and restarted; every total and rejection
     * must equal the ledger, and at least one kill must have landed inside such a transaction (it was still open 1 s
     * after the kill, so it could only be aborted).
     */
    @Test
    void exactlyOnceBillsLiveRequestsWaitingInTheJoinBufferAcrossSigkills() throws Exception {
        Duration span = Duration.ofSeconds(60);
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
                KafkaProducer<String, Object> producer = producer(broker)) {
            String[] args = withArgs(meteringArgs(broker, dir.resolve("metering"), "exactly_once_v2"),
                    "--keymeter.metering.join-grace=PT5S");
            Path log = Files.createDirectories(Path.of("target", "proof-logs")).resolve("metering-live.log");
            Files.deleteIfExists(log);
            AtomicReference<ChildApp> metering = new AtomicReference<>(new ChildApp(log, args).start());
            ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
            try {
                metering.get().awaitHealthy(Duration.ofSeconds(120));
                Instant start = Instant.now().plusSeconds(2);
                // the generator stamps at most one request a millisecond: a minute holds 60,000, so a longer run
                // (-Dproof.requests) sends at most 50,000 here instead of stretching the minute
                long seed = 11;
                LoadGenerator.Scenario scenario = new LoadGenerator(new LoadGenerator.Settings(seed, 3, 4,
                        Math.min(REQUESTS, LIVE_REQUESTS_MAX), start, span, 0.03, 0.02)).generate();
                Random random = new Random(seed);
                String bufferChangelog = StreamsFactory.changelogTopic(MeteringConfiguration.APP_NAME,
                        MeteringTopology.JOIN_BUFFER_STORE);
                List<Future<Boolean>> kills = new ArrayList<>();
                for (int k = 1; k <= KILLS; k++) {
                    long at = Duration.between(Instant.now(), start.plus(span.multipliedBy(k).dividedBy(KILLS + 1)))
                            .toMillis() + random.nextInt(1000);
                    // one killer thread: a kill whose time came during the restart before it waits for that restart,
                    // then for requests waiting uncommitted (a kill made at once found only a backlog being judged)
                    kills.add(killer.schedule(() -> killWhileRequestsWaitAndRestart(broker, bufferChangelog, metering,
                            log, args), at, TimeUnit.MILLISECONDS));
                }
                sendLive(producer, scenario);
                int inside = 0;
                for (Future<Boolean> kill : kills) {
                    inside += kill.get(180, TimeUnit.SECONDS) ? 1 : 0;
                }
                awaitOutputsEqualTheLedger(broker, scenario.ledger());
                // how many waited depends on how long the restarts took (a backlog is judged at once)
                assertThat(logEnd(broker, bufferChangelog)).as("records of requests that waited in the join buffer")
                        .isPositive();
                metering.get().close(); // counted with metering stopped, as above
                abortedRecords(broker, List.of(bufferChangelog)); // printed only: the log cleaner drops aborted records
                // the buffer's own: a kill found requests waiting there uncommitted (outputs aborted alone would not
                // show that the buffer's restore after a kill was exercised). Counted at the kills: the aborted records
                // themselves, counted at the end, were often gone, since the changelog rolls a segment a minute and
                // the log cleaner removes aborted records with the rest (0 in two CI runs whose kills did land)
                assertThat(inside).as("kills inside a transaction that had written to the join buffer's changelog")
                        .isPositive();
            } finally {
                killer.shutdownNow();
                metering.get().close();
            }
        }
    }

    /**
     * Sends key states and requests at their own time, as credential-store and gateways would: each when the clock
     * reaches it (resends and late requests, being later in the send order, go when their turn comes).
     */
    private static void sendLive(KafkaProducer<String, Object> producer, LoadGenerator.Scenario scenario)
            throws InterruptedException {
        AtomicReference<Exception> failure = new AtomicReference<>();
        Callback failed = (metadata, e) -> failure.compareAndSet(null, e);
        List<ApiKeyState> states = scenario.keyStates();
        int nextState = 0;
        Instant clock = Instant.MIN;
        for (LoadGenerator.Request request : scenario.requests()) {
            RequestLog r = request.log();
            clock = r.timestamp().isAfter(clock) ? r.timestamp() : clock;
            // pacing a load generator by the wall clock, not waiting for asynchronous work
            long wait = Duration.between(Instant.now(), clock).toMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            for (; nextState < states.size() && !states.get(nextState).updatedAt().isAfter(clock); nextState++) {
                producer.send(keyStateRecord(states.get(nextState)), failed);
            }
            producer.send(requestRecord(r), failed);
        }
        states.subList(nextState, states.size()).forEach(state -> producer.send(keyStateRecord(state), failed));
        producer.flush();
        assertThat(failure.get()).as("a record could not be sent").isNull();
    }

    /** Every daily total and every rejection (read_committed) equal the ledger; on failure, the diagnostics. */
    private static void awaitOutputsEqualTheLedger(EmbeddedKafkaBroker broker, Ledger ledger) {
        try {
            await("outputs equal the ledger").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
                    .untilAsserted(() -> assertThat(ledger.differencesOn(broker.bootstrapServers(), 30))
                            .as("differences from the ledger").isEmpty());
        } catch (Throwable e) {
            diagnose(broker, ledger);
            throw e;
        }
    }

    /**
     * Sends the scenario's key states and waits until metering has committed reading all of them, before any request
     * goes out. Sent together, a request could be judged before its key's state, made long before it, was read:
     * Kafka Streams takes an empty key-state partition for caught up by the lag of the last fetch that included it,
     * and the consumer leaves a partition out of its fetches while records of it wait unread; a key state appended
     * meanwhile, behind those, was read after requests that followed it, and 80 requests were refused
     * {@code unknown-key} in one CI run (see metering's README, "Key states and requests sent together").
     */
    private static void sendKeyStatesAndAwaitThem(EmbeddedKafkaBroker broker, KafkaProducer<String, Object> producer,
                                                  List<ApiKeyState> states) throws Exception {
        List<Future<RecordMetadata>> sent = states.stream().map(state -> producer.send(keyStateRecord(state))).toList();
        producer.flush();
        for (Future<RecordMetadata> send : sent) {
            send.get(30, TimeUnit.SECONDS); // a key state lost here would show as unknown-key requests
        }
        long end = logEnd(broker, Topics.API_KEYS.name());
        try (Admin admin = admin(broker)) {
            await("metering committed reading every key state").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> ConsumerGroups.committed(admin, METERING_GROUP, Topics.API_KEYS.name()) >= end);
        }
    }

    /** Sends requests and waits until metering writes while working on them (read_uncommitted). */
    private static void sendAndAwaitWork(EmbeddedKafkaBroker broker, KafkaProducer<String, Object> producer,
            List<LoadGenerator.Request> requests) throws Exception {
        long before = logEnd(broker, Topics.REJECTIONS.name());
        sendAll(producer, requests);
        await("metering works on the requests").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                .until(() -> logEnd(broker, Topics.REJECTIONS.name()) > before);
    }

    /** Requests an instance has judged since it started, every outcome: {@code keymeter_metering_requests_total}. */
    private static double judgedRequests(ChildApp app) throws Exception {
        return PrometheusSamples.total(app.get("/actuator/prometheus"), "keymeter_metering_requests_total");
    }

    /**
     * The same run with {@code at_least_once} must fail the check (opt-in: {@code -Dproof.at-least-once=true}), here
     * with the record cache off. With the cache on, this topology is nearly idempotent under at-least-once: replayed
     * requests hit the dedupe store, and cached totals reach the changelog only at commit, so four runs on a quiet
     * machine were exact (or off by a lost rejection). With the cache off, totals are written through, and the work
     * replayed after each kill is added again: 147 differences, all over-counts, in the first such run. It stays out
     * of the test command because whether a kill leaves a trace under at-least-once is a matter of timing.
     */
    @Test
    @EnabledIfSystemProperty(named = "proof.at-least-once", matches = "true")
    void atLeastOnceFailsTheSameCheck() throws Exception {
        runWithCrashes("at_least_once", 42, (broker, ledger) -> {
            long sent = logEnd(broker, Topics.REQUESTS.name());
            await("metering commits every request").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> committedRequests(broker) >= sent);
            AtomicReference<List<String>> previous = new AtomicReference<>(List.of("none yet"));
            List<String> settled = await("outputs settle").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(3))
                    .until(() -> {
                        List<String> now = ledger.differencesOn(broker.bootstrapServers(), 1000);
                        return now.equals(previous.getAndSet(now)) ? now : null;
                    }, Objects::nonNull);
            System.out.println("at_least_once differences from the ledger: " + settled.size() + ", first "
                    + settled.subList(0, Math.min(10, settled.size())));
            assertThat(settled).as("at_least_once must disagree with the ledger after kills").isNotEmpty();
        }, "--spring.kafka.streams.properties.statestore.cache.max.bytes=0");
    }

    /**
     * On a failed check, writes what is on the topics to target/proof-logs (rejections.tsv, requests.tsv, usage.tsv,
     * differences.txt) so the failure can be traced to requests: that is how resends counted twice after a kill were
     * found to straddle the kill.
     */
    private static void diagnose(EmbeddedKafkaBroker broker, Ledger ledger) {
        try {
            Path out = Path.of("target", "proof-logs");
            List<String> lines = new ArrayList<>();
            for (ConsumerRecord<String, Rejection> r : TopicReader.readAll(broker.bootstrapServers(), Topics.REJECTIONS)) {
                lines.add(r.partition() + "\t" + r.offset() + "\t" + r.value().requestId() + "\t" + r.value().reason().code() + "\t" + r.timestamp());
            }
            Files.write(out.resolve("rejections.tsv"), lines);
            lines.clear();
            for (ConsumerRecord<String, RequestLog> r : TopicReader.readAll(broker.bootstrapServers(), Topics.REQUESTS)) {
                lines.add(r.partition() + "\t" + r.offset() + "\t" + r.value().requestId() + "\t" + r.value().keyId() + "\t" + r.value().service() + "\t" + r.value().units() + "\t" + r.timestamp());
            }
            Files.write(out.resolve("requests.tsv"), lines);
            lines.clear();
            for (ConsumerRecord<String, UsageDaily> r : TopicReader.readAll(broker.bootstrapServers(), Topics.USAGE_DAILY)) {
                lines.add(r.partition() + "\t" + r.offset() + "\t" + r.key() + "\t" + r.value().requests() + "\t" + r.value().units() + "\t" + r.timestamp());
            }
            Files.write(out.resolve("usage.tsv"), lines);
            Files.write(out.resolve("differences.txt"), ledger.differencesOn(broker.bootstrapServers(), 1000));
        } catch (Exception e) {
            System.err.println("could not write the proof diagnostics: " + e);
        }
    }

    /** What the test checks once the run is over and metering still runs. */
    private interface Check {
        void verify(EmbeddedKafkaBroker broker, Ledger ledger) throws Exception;
    }

    private void runWithCrashes(String guarantee, long seed, Check check, String... extraArgs) throws Exception {
        LoadGenerator.Scenario scenario = new LoadGenerator(LoadGenerator.Settings.of(seed, REQUESTS,
                Instant.parse("2026-10-30T12:00:00Z"))).generate();
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start()) {
            String[] args = withArgs(meteringArgs(broker, dir.resolve("metering"), guarantee), extraArgs);
            Path log = Files.createDirectories(Path.of("target", "proof-logs")).resolve("metering-" + guarantee + ".log");
            Files.deleteIfExists(log);
            AtomicReference<ChildApp> metering = new AtomicReference<>(new ChildApp(log, args).start());
            ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
            try (KafkaProducer<String, Object> producer = producer(broker)) {
                metering.get().awaitHealthy(Duration.ofSeconds(120));
                sendKeyStatesAndAwaitThem(broker, producer, scenario.keyStates());
                // the run goes out in KILLS + 1 chunks; after each chunk but the last, metering is killed while it
                // works through the chunk: with exactly-once, as soon as its outputs hold an open transaction (their
                // read_uncommitted end past their read_committed end; commit interval 2 s), whatever the speed of the
                // machine; with at-least-once, which has no transactions, 0-300 ms after its output log grows
                boolean exactlyOnce = guarantee.equals("exactly_once_v2");
                Random random = new Random(seed);
                List<LoadGenerator.Request> requests = scenario.requests();
                int chunk = (requests.size() + KILLS) / (KILLS + 1);
                for (int k = 0; k <= KILLS; k++) {
                    long before = logEnd(broker, Topics.REJECTIONS.name());
                    sendAll(producer, requests.subList(Math.min(requests.size(), k * chunk),
                            Math.min(requests.size(), (k + 1) * chunk)));
                    if (k < KILLS) {
                        await("metering works on the chunk").atMost(Duration.ofSeconds(120))
                                .pollInterval(Duration.ofMillis(5))
                                .until(() -> exactlyOnce ? openTransaction(broker, OUTPUTS)
                                        : logEnd(broker, Topics.REJECTIONS.name()) > before);
                        killer.schedule(() -> killAndRestart(metering, log, args), exactlyOnce ? 0 : random.nextInt(300),
                                TimeUnit.MILLISECONDS).get();
                    }
                }
                check.verify(broker, scenario.ledger());
                if (exactlyOnce) {
                    // counted with metering stopped: a transaction open between the two reads would count as aborted
                    metering.get().close();
                    assertThat(abortedRecords(broker, OUTPUTS)).as("records of transactions the kills aborted").isPositive();
                }
            } finally {
                killer.shutdownNow();
                metering.get().close();
            }
        }
    }

    /** Metering alone on the test's broker, committing every 2 s, its session timing out after 6 s. */
    private static String[] meteringArgs(EmbeddedKafkaBroker broker, Path dataDir, String guarantee) {
        return new String[] {"--keymeter.roles=metering", "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                "--keymeter.data-dir=" + dataDir, "--keymeter.streams.commit-interval=PT2S",
                "--spring.kafka.streams.properties.processing.guarantee=" + guarantee,
                "--spring.kafka.streams.properties.commit.interval.ms=2000",
                "--spring.kafka.streams.properties.session.timeout.ms=6000",
                "--spring.kafka.streams.properties.heartbeat.interval.ms=1500"};
    }

    private static String[] withArgs(String[] args, String... more) {
        return Stream.concat(Arrays.stream(args), Arrays.stream(more)).toArray(String[]::new);
    }

    /**
     * Kills inside a transaction that has written to the join buffer's changelog (requests waiting there,
     * uncommitted), or 15 s after its time without one (the minute of traffic over), and restarts. A changelog whose
     * stable end lagged its log end was not enough: that is also a transaction already committing (its markers not
     * yet written, slow on a loaded machine), and one CI run's three kills each found only such a one, aborting
     * nothing.
     */
    private static boolean killWhileRequestsWaitAndRestart(EmbeddedKafkaBroker broker, String bufferChangelog,
                                                           AtomicReference<ChildApp> metering, Path log, String[] args)
            throws Exception {
        boolean inside = false;
        try (Admin admin = admin(broker)) {
            List<String> buffer = List.of(bufferChangelog);
            OpenTransaction open = killInsideTransaction(admin, metering.get(), () -> transactionalIds(admin), buffer,
                    Duration.ofSeconds(15)).orElse(null);
            if (open == null) {
                System.out.println("no transaction kept open on the join buffer's changelog within 15 s: killed all the same");
                metering.get().kill();
            } else {
                // still open a second after the kill: it can only be aborted (one that committed is not counted)
                inside = staysOpen(admin, open, buffer, Duration.ofSeconds(1));
                System.out.println("killed metering " + (inside ? "inside" : "just after") + " its transaction " + open);
            }
        }
        restart(metering, log, args);
        return inside;
    }

    /** SIGKILL, then a new JVM on the same data dir, as a crashed and restarted pod. */
    private static Void killAndRestart(AtomicReference<ChildApp> metering, Path log, String[] args) throws Exception {
        metering.get().kill();
        restart(metering, log, args);
        return null;
    }

    private static void restart(AtomicReference<ChildApp> metering, Path log, String[] args) throws Exception {
        System.out.println("killed metering at " + Instant.now());
        metering.set(new ChildApp(log, args).start().awaitHealthy(Duration.ofSeconds(120)));
    }

    /** Sends the requests in 40 slices 200 ms apart, counting what was sent. */
    private static void sendPaced(KafkaProducer<String, Object> producer, List<LoadGenerator.Request> requests,
                                  AtomicInteger sent) throws InterruptedException {
        int slice = Math.max(1, (requests.size() + 39) / 40);
        for (int from = 0; from < requests.size(); from += slice) {
            List<LoadGenerator.Request> part = requests.subList(from, Math.min(requests.size(), from + slice));
            sendAll(producer, part);
            sent.addAndGet(part.size());
            Thread.sleep(200); // pacing a load generator, not waiting for asynchronous work
        }
    }

    private static void sendAll(KafkaProducer<String, Object> producer, List<LoadGenerator.Request> requests) {
        AtomicReference<Exception> failure = new AtomicReference<>();
        for (LoadGenerator.Request request : requests) {
            producer.send(requestRecord(request.log()), (metadata, e) -> failure.compareAndSet(null, e));
        }
        producer.flush();
        // every request acknowledged: the ledger's inputs are all on the topic
        assertThat(failure.get()).as("a request could not be sent").isNull();
    }

    /** A key state as credential-store publishes it: keyed by keyId, stamped with its change. */
    private static ProducerRecord<String, Object> keyStateRecord(ApiKeyState state) {
        return new ProducerRecord<>(Topics.API_KEYS.name(), null, state.updatedAt().toEpochMilli(), state.keyId(), state);
    }

    /** A request as ingest writes it: keyed by keyId, stamped with the request's own time. */
    private static ProducerRecord<String, Object> requestRecord(RequestLog request) {
        return new ProducerRecord<>(Topics.REQUESTS.name(), null, request.timestamp().toEpochMilli(), request.keyId(),
                request);
    }

    /** End of a topic's log, uncommitted transactional records included. */
    private static long logEnd(EmbeddedKafkaBroker broker, String topic) throws Exception {
        return logEnd(broker, List.of(topic), IsolationLevel.READ_UNCOMMITTED);
    }

    private static long logEnd(EmbeddedKafkaBroker broker, List<String> topics, IsolationLevel isolation) throws Exception {
        try (Admin admin = admin(broker)) {
            return KafkaTopics.endOffsets(admin, topics, isolation, Duration.ofSeconds(30))
                    .values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Every transactional id the brokers know of, whatever its state. */
    private static Set<String> transactionalIds(EmbeddedKafkaBroker broker) throws Exception {
        try (Admin admin = admin(broker)) {
            return transactionalIds(admin);
        }
    }

    private static Set<String> transactionalIds(Admin admin) throws Exception {
        return Transactions.ids(admin);
    }

    /** Whether these topics hold a transaction not yet committed or aborted (the stable end lags the log end). */
    private static boolean openTransaction(EmbeddedKafkaBroker broker, List<String> topics) throws Exception {
        return logEnd(broker, topics, IsolationLevel.READ_UNCOMMITTED) > logEnd(broker, topics, IsolationLevel.READ_COMMITTED);
    }

    /** Records of aborted transactions on these topics, printed for the run's log. */
    private static long abortedRecords(EmbeddedKafkaBroker broker, List<String> topics) {
        long aborted = TopicReader.abortedRecords(broker.bootstrapServers(), topics);
        System.out.println("records of aborted transactions on " + topics + ": " + aborted);
        return aborted;
    }

    private static KafkaProducer<String, Object> producer(EmbeddedKafkaBroker broker) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        return new KafkaProducer<>(config, new org.apache.kafka.common.serialization.StringSerializer(),
                (topic, value) -> topic.equals(Topics.API_KEYS.name())
                        ? Topics.API_KEYS.valueSerde().serializer().serialize(topic, (ApiKeyState) value)
                        : Topics.REQUESTS.valueSerde().serializer().serialize(topic, (RequestLog) value));
    }

    private static long committedRequests(EmbeddedKafkaBroker broker) throws Exception {
        try (Admin admin = admin(broker)) {
            return ConsumerGroups.committed(admin, METERING_GROUP, Topics.REQUESTS.name());
        }
    }

    private static Admin admin(EmbeddedKafkaBroker broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }
}
