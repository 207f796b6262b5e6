package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSerdes;
import io.keymeter.metering.MeteringSettings;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.metering.enforcement.ArrivedRequest;
import io.keymeter.metering.enforcement.OutcomeCounters;
import io.keymeter.metering.enforcement.RequestTimestampExtractor;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.ConsumerGroups;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * Metering throughput against a plain pass-through topology over the same pre-loaded requests (same run, same
 * exactly-once configuration, 6 partitions, 10k keys), with the reference point between them: a bare
 * versioned join + daily count. A second pass-through reads the requests as metering does ({@code RequestLogReader})
 * instead of with the topic's data binding: metering's ratio to it shows what is left once its cheaper read is
 * given to the baseline too; a third copies the record bytes and parses nothing (Streams' own cost). For each
 * topology it also prints the offsets every topic advanced by per request (what the topology writes for one record
 * in), its stream thread's busy share and the JVM's CPU per request.
 * {@code /v1/verify} latency and invalidation propagation are in {@link VerifyBenchmark}.
 * <p>
 * {@code -Dbench.requests=} sets the number of requests (default 5,000,000). Each topology runs
 * {@code -Dbench.rounds=} times (default 2), in turn, each time as a fresh application over the whole topic: the
 * first round of a JVM pays the JIT's warm-up (mostly the baseline's, as it runs first; it ran 1.4-2.2x faster in the
 * second round), so the last round's ratio is the one to quote.
 */
class MeteringBenchmark {

    private static final int KEYS = 10_000;
    private static final int PARTITIONS = 6;
    private static final long REQUESTS = Long.getLong("bench.requests", 5_000_000L);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 2);
    private static final String PASS_THROUGH_OUT = "bench.pass-through-out";

    /** {@code -Dbench.streams.<config>=<value>}: Kafka Streams settings for every topology of the run (both sides). */
    private static final Map<String, Object> STREAMS_OVERRIDES = System.getProperties().stringPropertyNames().stream()
            .filter(name -> name.startsWith("bench.streams."))
            .collect(Collectors.toMap(name -> name.substring("bench.streams.".length()),
                    System::getProperty));

    private final String bootstrap = SharedKafka.bootstrapServers();
    private final Instant now = Instant.now();
    private final List<ApiKeys.GeneratedKey> keys = new ArrayList<>();
    private final AtomicInteger sendFailures = new AtomicInteger();

    @Test
    void metering() throws Exception {
        Path dataDir = TempDirs.create("keymeter-bench");
        KeymeterProperties properties = new KeymeterProperties(List.of("metering"), dataDir, null, null, null, null,
                null, MeteringBenchSettings.metering(), null, null, null);
        createTopics();
        loadKeys();
        long loadStart = System.nanoTime();
        loadRequests();
        Figures.print("metering.preload.requests", REQUESTS, "records");
        Figures.print("metering.preload.rate", REQUESTS / seconds(System.nanoTime() - loadStart), "records/s");

        for (int round = 1; round <= ROUNDS; round++) {
            // each round runs all four over the whole topic; the first is also the JIT's warm-up, so compare rounds
            String suffix = ROUNDS == 1 ? "" : ".round-" + round;
            String app = ROUNDS == 1 ? "" : "-r" + round;
            double baseline = run("bench-pass-through" + app, passThrough(), properties, Map.of());
            Figures.print("metering.pass-through.throughput" + suffix, baseline, "records/s");
            double readerBaseline = run("bench-pass-through-reader" + app, passThroughReadAsMetering(), properties, Map.of());
            Figures.print("metering.pass-through-reader.throughput" + suffix, readerBaseline, "records/s");
            double bytesBaseline = run("bench-pass-through-bytes" + app, passThroughBytes(), properties, Map.of());
            Figures.print("metering.pass-through-bytes.throughput" + suffix, bytesBaseline, "records/s");
            MeteringSettings settings = MeteringSettings.of(properties, Duration.ZERO, PARTITIONS); // no join grace
            double reference = run("bench-join-count" + app, joinAndCount(settings), properties, Map.of());
            Figures.print("metering.reference.join-count.throughput" + suffix, reference, "records/s");
            Figures.ratio("metering.reference.join-count.vs.pass-through" + suffix, reference, baseline);
            Figures.ratio("metering.reference.join-count.vs.pass-through-bytes" + suffix, reference, bytesBaseline);
            SimpleMeterRegistry counters = new SimpleMeterRegistry();
            Topology metering = MeteringTopology.build(MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, PARTITIONS),
                    counters);
            // a backlog request its key does not know is judged a grace after it was read, after its offset was
            // committed: the rate ends at the commit of the last offset, the outcomes are read once all are judged
            double metered = run("bench-metering" + app, metering, properties, Map.of(),
                    () -> allOutcomes(counters) >= REQUESTS);
            printOutcomes("metering.topology.requests" + suffix, counters);
            // in memory: a task revived after an aborted transaction counts its decisions again, worth seeing here
            assertThat(allOutcomes(counters)).as("every request judged once").isEqualTo((double) REQUESTS);
            Figures.print("metering.topology.throughput" + suffix, metered, "records/s");
            Figures.ratio("metering.topology.vs.pass-through" + suffix, metered, baseline);
            Figures.ratio("metering.topology.vs.pass-through-reader" + suffix, metered, readerBaseline);
            Figures.ratio("metering.topology.vs.pass-through-bytes" + suffix, metered, bytesBaseline);
            Topology noGrace = MeteringTopology.build(settings, new SimpleMeterRegistry());
            double meteredNoGrace = run("bench-metering-no-grace" + app, noGrace, properties, Map.of());
            Figures.print("metering.topology.join-grace-0.throughput" + suffix, meteredNoGrace, "records/s");
            Figures.ratio("metering.topology.join-grace-0.vs.pass-through" + suffix, meteredNoGrace, baseline);
        }
    }

    /** What the run's {@code keymeter_metering_requests_total} counted: every request read should be in one. */
    private static void printOutcomes(String name, SimpleMeterRegistry counters) {
        for (Counter counter : counters.get(MeteringTopology.REQUESTS_METRIC).counters()) {
            String outcome = counter.getId().getTag(OutcomeCounters.OUTCOME_TAG);
            if (counter.count() > 0) {
                Figures.print(name + "." + outcome, counter.count(), "requests");
            }
        }
        Figures.print(name + ".all-outcomes", allOutcomes(counters), "requests");
    }

    private static double allOutcomes(SimpleMeterRegistry counters) {
        return counters.get(MeteringTopology.REQUESTS_METRIC).counters().stream().mapToDouble(Counter::count).sum();
    }

    // --- throughput ---------------------------------------------------------------------------------------------

    private static Topology passThrough() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.REQUESTS.name(), Consumed.with(Topics.REQUESTS.keySerde(), Topics.REQUESTS.valueSerde())
                        .withName("requests-source"))
                .to(PASS_THROUGH_OUT, Produced.with(Topics.REQUESTS.keySerde(), Topics.REQUESTS.valueSerde())
                        .withName("pass-through-sink"));
        return builder.build();
    }

    /**
     * The plainest pass-through: record bytes copied to the output topic, nothing parsed. The JSON pass-through
     * above pays the request's data binding both ways; this one shows what Streams alone costs on the same records,
     * the scale of the developers' guide's figures (a pass-through at ~376k rec/s, which does not say what it parsed).
     */
    private static Topology passThroughBytes() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.REQUESTS.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("requests-source"))
                .to(PASS_THROUGH_OUT, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("pass-through-sink"));
        return builder.build();
    }

    /**
     * The pass-through reading requests as metering does ({@code RequestLogReader}, faster than the topic's data
     * binding) and writing them with the topic's serde: how much of metering's ratio is its cheaper read.
     */
    private static Topology passThroughReadAsMetering() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.REQUESTS.name(), Consumed.with(Topics.REQUESTS.keySerde(), MeteringSerdes.ARRIVED_REQUEST)
                        .withName("requests-source"))
                .mapValues(ArrivedRequest::log, Named.as("parsed-request"))
                .to(PASS_THROUGH_OUT, Produced.with(Topics.REQUESTS.keySerde(), Topics.REQUESTS.valueSerde())
                        .withName("pass-through-sink"));
        return builder.build();
    }

    /**
     * The reference point, "a bare versioned join + daily count": each request inner-joined to the versioned
     * key-state table (no dedupe, no grace, no validation, no rejections) and counted per credential, service and UTC
     * day through a repartition, with the same serdes as metering. What metering adds beyond it is the difference.
     */
    private static Topology joinAndCount(MeteringSettings settings) {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, ApiKeyState> keyStates = builder.table(Topics.API_KEYS.name(),
                Consumed.with(Topics.API_KEYS.keySerde(), MeteringSerdes.KEY_STATE).withName("ref-api-keys-source"),
                Materialized.<String, ApiKeyState>as(
                                Stores.persistentVersionedKeyValueStore("ref-api-keys", settings.historyRetention()))
                        .withKeySerde(Topics.API_KEYS.keySerde()).withValueSerde(MeteringSerdes.KEY_STATE));
        builder.stream(Topics.REQUESTS.name(), Consumed.with(Topics.REQUESTS.keySerde(), Topics.REQUESTS.valueSerde())
                        .withTimestampExtractor(new RequestTimestampExtractor()).withName("ref-requests-source"))
                .join(keyStates, (request, state) -> state.accountId() + "/" + state.credentialId() + "/"
                                + request.service() + "/" + MeteringTopology.dayOf(request),
                        Joined.<String, RequestLog, ApiKeyState>as("ref-join")
                                .withKeySerde(Topics.REQUESTS.keySerde()).withValueSerde(Topics.REQUESTS.valueSerde()))
                .groupBy((keyId, usageKey) -> usageKey, Grouped.with("ref-by-day", Serdes.String(), Serdes.String()))
                .count(Named.as("ref-count"), Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("ref-daily-counts")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
                .toStream(Named.as("ref-totals"))
                .to("bench.join-count-out", Produced.with(Serdes.String(), Serdes.Long()).withName("ref-sink"));
        return builder.build();
    }

    /** Records/s from RUNNING to every input offset committed. */
    private double run(String name, Topology topology, KeymeterProperties properties, Map<String, Object> overrides)
            throws Exception {
        return run(name, topology, properties, overrides, () -> true);
    }

    /** As above; then, untimed, waits until {@code settled} before the topology is closed. */
    private double run(String name, Topology topology, KeymeterProperties properties, Map<String, Object> overrides,
                       BooleanSupplier settled) throws Exception {
        Map<String, Object> base = new HashMap<>(STREAMS_OVERRIDES);
        base.put("bootstrap.servers", bootstrap);
        Properties config = StreamsFactory.config(base, properties, name, overrides);
        String groupId = config.getProperty("application.id");
        try (KafkaStreams streams = new KafkaStreams(topology, config); Admin admin = admin()) {
            Map<String, Long> endsBefore = endOffsets(admin);
            streams.start();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (streams.state() != KafkaStreams.State.RUNNING) {
                assertThat(System.nanoTime()).as(name + " reaches RUNNING").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            long start = System.nanoTime();
            long processCpuStart = processCpuNanos();
            long streamThreadCpuStart = streamThreadCpuNanos(name);
            deadline = start + TimeUnit.MINUTES.toNanos(20);
            long committed = 0;
            while (committed < REQUESTS) {
                assertThat(System.nanoTime()).as(name + " processes every request").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                committed = ConsumerGroups.committed(admin, groupId, Topics.REQUESTS.name());
            }
            long elapsed = System.nanoTime() - start;
            double rate = REQUESTS / seconds(elapsed);
            // busy share of the stream thread and cores used by the whole JVM (broker included): a thread well below
            // 100 % waits (commits, fetches), a JVM near the core count is CPU-bound
            Figures.print(name + ".stream-thread.busy", 100.0 * (streamThreadCpuNanos(name) - streamThreadCpuStart) / elapsed, "%");
            Figures.print(name + ".jvm.cores-used", (double) (processCpuNanos() - processCpuStart) / elapsed, "cores");
            Figures.print(name + ".jvm.cpu-per-request", (processCpuNanos() - processCpuStart) / 1000.0 / REQUESTS, "us");
            deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (!settled.getAsBoolean()) {
                assertThat(System.nanoTime()).as(name + " settles").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            double dropped = streams.metrics().entrySet().stream()
                    .filter(e -> e.getKey().name().equals("dropped-records-total"))
                    .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
            Figures.print(name + ".dropped-records", dropped, "records");
            streams.close(Duration.ofSeconds(30));
            printWrites(name, endsBefore, endOffsets(admin));
            return rate;
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of the application's stream threads so far. */
    private static long streamThreadCpuNanos(String name) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo thread : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (thread != null && thread.getThreadName().matches("keymeter-" + name + "-StreamThread-\\d+")) {
                total += Math.max(0, threads.getThreadCpuTime(thread.getThreadId()));
            }
        }
        return total;
    }

    /** Sum of the partitions' end offsets, per topic. */
    private static Map<String, Long> endOffsets(Admin admin) throws Exception {
        return KafkaTopics.endOffsets(admin, admin.listTopics().names().get(), IsolationLevel.READ_UNCOMMITTED,
                        Duration.ofSeconds(60)).entrySet().stream()
                .collect(Collectors.groupingBy(e -> e.getKey().topic(), Collectors.summingLong(Map.Entry::getValue)));
    }

    /**
     * Offsets each topic advanced by during the run, per request: the write amplification that separates a topology
     * from the pass-through's one record out per record in. Offsets also count transaction markers (one per partition
     * and commit), a few thousand per run.
     */
    private static void printWrites(String name, Map<String, Long> before, Map<String, Long> after) {
        double total = 0;
        for (Map.Entry<String, Long> topic : new TreeMap<>(after).entrySet()) {
            long written = topic.getValue() - before.getOrDefault(topic.getKey(), 0L);
            if (written > 0 && !topic.getKey().startsWith("__")) {
                String label = topic.getKey().startsWith(name + "-") ? topic.getKey().substring(name.length() + 1)
                        : topic.getKey();
                Figures.print(name + ".writes." + label, (double) written / REQUESTS, "offsets/request");
                total += (double) written / REQUESTS;
            }
        }
        Figures.print(name + ".writes.total", total, "offsets/request");
    }

    // --- data -------------------------------------------------------------------------------------------------

    private void createTopics() throws Exception {
        try (Admin admin = admin()) {
            BenchTopics.create(admin, PARTITIONS, List.of(new NewTopic(PASS_THROUGH_OUT, PARTITIONS, (short) 1),
                    new NewTopic("bench.join-count-out", PARTITIONS, (short) 1)
                            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
        }
    }

    private void loadKeys() throws Exception {
        try (KafkaProducer<String, ApiKeyState> producer = producer(Topics.API_KEYS)) {
            for (int i = 0; i < KEYS; i++) {
                ApiKeys.GeneratedKey key = ApiKeys.generate();
                keys.add(key);
                Instant created = now.minus(Duration.ofDays(2));
                producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, created.toEpochMilli(), key.keyId(),
                        state(key, i, KeyStatus.ACTIVE, created)), this::failOnError);
            }
            producer.flush();
            assertThat(sendFailures.get()).as("failed sends").isZero();
        }
    }

    private static ApiKeyState state(ApiKeys.GeneratedKey key, int i, KeyStatus status, Instant at) {
        return new ApiKeyState(key.keyId(), "cred-" + (i / 2), "account-" + (i / 20), 1 + i % 2, status,
                Instant.now().plus(Duration.ofDays(30)), key.secretHash(),
                List.of("premium:user:basemaps", "premium:user:geocode:temporary", "premium:user:networkanalysis:routing"),
                List.of(), List.of(), at);
    }

    /** Requests spread over the last day, in time order; about 1% resends and 1% forged secrets. */
    private void loadRequests() throws Exception {
        String[] services = {"basemaps", "geocoding", "routing"};
        Random random = new Random(42);
        long first = now.minus(Duration.ofDays(1)).toEpochMilli();
        long step = Math.max(1, Duration.ofDays(1).minusMinutes(1).toMillis() / REQUESTS);
        String forgedHash = ApiKeys.hashSecret("forged");
        try (KafkaProducer<String, RequestLog> producer = producer(Topics.REQUESTS)) {
            for (long i = 0; i < REQUESTS; i++) {
                ApiKeys.GeneratedKey key = keys.get(random.nextInt(KEYS));
                int dice = random.nextInt(100);
                long id = dice == 0 && i > 0 ? i - 1 : i; // a resend of the previous request id (same key only by chance)
                String hash = dice == 1 ? forgedHash : key.secretHash();
                long ts = first + i * step;
                RequestLog request = new RequestLog("req-" + id + "-" + key.keyId(), key.keyId(), hash,
                        services[random.nextInt(services.length)], "op", 1 + random.nextInt(5), null, null,
                        Instant.ofEpochMilli(ts));
                producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, ts, key.keyId(), request), this::failOnError);
            }
            producer.flush();
            assertThat(sendFailures.get()).as("failed sends").isZero();
        }
    }

    private void failOnError(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception error) {
        if (error != null) {
            sendFailures.incrementAndGet();
        }
    }

    private <V> KafkaProducer<String, V> producer(Topic<String, V> topic) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // the machine is shared and loaded: never let a batch expire (an expired batch is a lost record)
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 120_000);
        return new KafkaProducer<>(config, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
