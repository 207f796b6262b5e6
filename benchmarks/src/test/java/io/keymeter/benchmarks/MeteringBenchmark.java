package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSettings;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;

/**
 * Metering throughput against a plain pass-through topology over the same pre-loaded requests (same run, same
 * exactly-once configuration, 6 partitions, 10k keys). {@code /v1/verify} latency and invalidation propagation are
 * in {@link VerifyBenchmark}.
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
        Path dataDir = Files.createTempDirectory("keymeter-bench");
        KeymeterProperties properties = new KeymeterProperties(List.of("metering"), dataDir, null, null, null, null,
                null, null, null, null, null);
        createTopics();
        loadKeys();
        long loadStart = System.nanoTime();
        loadRequests();
        Figures.print("metering.preload.requests", REQUESTS, "records");
        Figures.print("metering.preload.rate", REQUESTS / seconds(System.nanoTime() - loadStart), "records/s");

        for (int round = 1; round <= ROUNDS; round++) {
            // each round runs all three over the whole topic; the first is also the JIT's warm-up, so compare rounds
            String suffix = ROUNDS == 1 ? "" : ".round-" + round;
            String app = ROUNDS == 1 ? "" : "-r" + round;
            double baseline = run("bench-pass-through" + app, passThrough(), properties, Map.of());
            Figures.print("metering.pass-through.throughput" + suffix, baseline, "records/s");
            Topology metering = MeteringTopology.build(MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE));
            double metered = run("bench-metering" + app, metering, properties, Map.of());
            Figures.print("metering.topology.throughput" + suffix, metered, "records/s");
            Figures.ratio("metering.topology.vs.pass-through" + suffix, metered, baseline);
            Topology noGrace = MeteringTopology.build(MeteringSettings.of(properties, Duration.ZERO));
            double meteredNoGrace = run("bench-metering-no-grace" + app, noGrace, properties, Map.of());
            Figures.print("metering.topology.join-grace-0.throughput" + suffix, meteredNoGrace, "records/s");
            Figures.ratio("metering.topology.join-grace-0.vs.pass-through" + suffix, meteredNoGrace, baseline);
        }
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

    /** Records/s from RUNNING to every input offset committed. */
    private double run(String name, Topology topology, KeymeterProperties properties, Map<String, Object> overrides)
            throws Exception {
        Map<String, Object> base = new HashMap<>(STREAMS_OVERRIDES);
        base.put("bootstrap.servers", bootstrap);
        Properties config = StreamsFactory.config(base, properties, name, overrides);
        String groupId = config.getProperty("application.id");
        try (KafkaStreams streams = new KafkaStreams(topology, config); Admin admin = admin()) {
            streams.start();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (streams.state() != KafkaStreams.State.RUNNING) {
                assertThat(System.nanoTime()).as(name + " reaches RUNNING").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            long start = System.nanoTime();
            deadline = start + TimeUnit.MINUTES.toNanos(20);
            long committed = 0;
            while (committed < REQUESTS) {
                assertThat(System.nanoTime()).as(name + " processes every request").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                committed = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get().entrySet()
                        .stream().filter(e -> e.getKey().topic().equals(Topics.REQUESTS.name()))
                        .mapToLong(e -> e.getValue() == null ? 0 : e.getValue().offset()).sum();
            }
            double rate = REQUESTS / seconds(System.nanoTime() - start);
            double dropped = streams.metrics().entrySet().stream()
                    .filter(e -> e.getKey().name().equals("dropped-records-total"))
                    .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
            Figures.print(name + ".dropped-records", dropped, "records");
            streams.close(Duration.ofSeconds(30));
            return rate;
        }
    }

    // --- data -------------------------------------------------------------------------------------------------

    private void createTopics() throws Exception {
        try (Admin admin = admin()) {
            List<NewTopic> topics = new ArrayList<>();
            for (Topic<String, ?> topic : Topics.PUBLIC) {
                topics.add(new NewTopic(topic.name(), PARTITIONS, (short) 1)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, topic.cleanupPolicy())));
            }
            for (Topic<String, byte[]> topic : Topics.INTERNAL) {
                topics.add(new NewTopic(topic.name(), PARTITIONS, (short) 1)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, topic.cleanupPolicy())));
            }
            topics.add(new NewTopic(PASS_THROUGH_OUT, PARTITIONS, (short) 1));
            admin.createTopics(topics).all().get();
            KafkaTopics.awaitLeaders(admin, topics.stream().map(NewTopic::name).toList(), Duration.ofSeconds(60));
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
