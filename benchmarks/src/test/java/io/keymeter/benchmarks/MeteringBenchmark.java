package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSettings;
import io.keymeter.metering.MeteringTopology;
import io.keymeter.metering.verify.Verifier;
import io.keymeter.metering.verify.VerifyRequest;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Metering throughput against a plain pass-through topology over the same pre-loaded requests (same run, same
 * exactly-once configuration, 6 partitions, 10k keys), then {@code /v1/verify} latency at a fixed rate and the
 * propagation of an invalidation to {@code /v1/verify}.
 * <p>
 * {@code -Dbench.requests=} sets the number of requests (default 5,000,000).
 */
class MeteringBenchmark {

    private static final int KEYS = 10_000;
    private static final int PARTITIONS = 6;
    private static final long REQUESTS = Long.getLong("bench.requests", 5_000_000L);
    private static final int VERIFY_RATE = 2_000;
    private static final Duration VERIFY_WARMUP = Duration.ofSeconds(3);
    private static final Duration VERIFY_MEASURE = Duration.ofSeconds(10);
    private static final int PROPAGATIONS = 200;
    private static final int VERIFY_CLIENTS = 16;
    private static final String PASS_THROUGH_OUT = "bench.pass-through-out";
    private static final String GATEWAY_TOKEN = "bench-gateway-token";

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

        Topology passThrough = passThrough();
        double baseline = run("bench-pass-through", passThrough, properties, Map.of());
        Figures.print("metering.pass-through.throughput", baseline, "records/s");
        Topology metering = MeteringTopology.build(MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE));
        double metered = run("bench-metering", metering, properties, Map.of());
        Figures.print("metering.topology.throughput", metered, "records/s");
        Figures.ratio("metering.topology.vs.pass-through", metered, baseline);
        Topology noGrace = MeteringTopology.build(MeteringSettings.of(properties, Duration.ZERO));
        double meteredNoGrace = run("bench-metering-no-grace", noGrace, properties, Map.of());
        Figures.print("metering.topology.join-grace-0.throughput", meteredNoGrace, "records/s");
        Figures.ratio("metering.topology.join-grace-0.vs.pass-through", meteredNoGrace, baseline);

        deleteRequests(); // the app's own metering topology should not compete with the verify measurements
        try (ConfigurableApplicationContext app = startApp(dataDir.resolve("app"))) {
            int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
            verifyLatency(port);
            verifyInProcess(app.getBean(Verifier.class));
            invalidationPropagation(port);
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
        Properties config = StreamsFactory.config(Map.of("bootstrap.servers", bootstrap), properties, name, overrides);
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

    // --- verify -------------------------------------------------------------------------------------------------

    /** Open loop: requests are issued on a fixed schedule by a pool of clients, whatever the previous answers took. */
    private void verifyLatency(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Random random = new Random(7);
        long interval = TimeUnit.SECONDS.toNanos(1) / VERIFY_RATE;
        int warmup = (int) (VERIFY_WARMUP.toSeconds() * VERIFY_RATE);
        int total = warmup + (int) (VERIFY_MEASURE.toSeconds() * VERIFY_RATE);
        long[] service = new long[total];
        long[] fromSchedule = new long[total];
        AtomicInteger invalid = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(VERIFY_CLIENTS);
        long start = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long scheduled = start + i * interval;
            long wait;
            while ((wait = scheduled - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            int index = i;
            HttpRequest request = verifyRequest(port, keys.get(random.nextInt(KEYS)).apiKey());
            clients.execute(() -> {
                long sent = System.nanoTime();
                try {
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200 || !response.body().contains("\"valid\":true")) {
                        invalid.incrementAndGet();
                    }
                } catch (Exception e) {
                    invalid.incrementAndGet();
                }
                long done = System.nanoTime();
                service[index] = done - sent;
                fromSchedule[index] = done - scheduled;
            });
        }
        clients.shutdown();
        assertThat(clients.awaitTermination(2, TimeUnit.MINUTES)).isTrue();
        double achieved = total / seconds(System.nanoTime() - start);
        assertThat(invalid.get()).as("answers other than valid").isZero();
        long[] measuredService = java.util.Arrays.copyOfRange(service, warmup, total);
        long[] measuredSchedule = java.util.Arrays.copyOfRange(fromSchedule, warmup, total);
        Figures.print("verify.rate.achieved", achieved, "requests/s");
        Figures.print("verify.latency.p50", Figures.percentile(measuredService, 50) / 1e6, "ms");
        Figures.print("verify.latency.p99", Figures.percentile(measuredService, 99) / 1e6, "ms");
        Figures.print("verify.latency.p99.from-schedule", Figures.percentile(measuredSchedule, 99) / 1e6, "ms");
    }

    /** The verify decision itself (key parse and hash, cache lookup, validator), without HTTP. */
    private void verifyInProcess(Verifier verifier) {
        Random random = new Random(11);
        int total = 200_000;
        int warmup = 50_000;
        long[] samples = new long[total - warmup];
        for (int i = 0; i < total; i++) {
            VerifyRequest request = new VerifyRequest(keys.get(random.nextInt(KEYS)).apiKey(), "basemaps", null, null);
            long start = System.nanoTime();
            boolean valid = verifier.verify(request).valid();
            long took = System.nanoTime() - start;
            assertThat(valid).isTrue();
            if (i >= warmup) {
                samples[i - warmup] = took;
            }
        }
        Figures.print("verify.in-process.p50", Figures.percentile(samples, 50) / 1e3, "us");
        Figures.print("verify.in-process.p99", Figures.percentile(samples, 99) / 1e3, "us");
    }

    /** From the acknowledged write of an invalidated key state to the first {@code /v1/verify} answering invalidated. */
    private void invalidationPropagation(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long[] samples = new long[PROPAGATIONS];
        try (KafkaProducer<String, ApiKeyState> producer = producer(Topics.API_KEYS)) {
            for (int i = 0; i < PROPAGATIONS; i++) {
                ApiKeys.GeneratedKey key = keys.get(i);
                HttpResponse<String> before = http.send(verifyRequest(port, key.apiKey()), HttpResponse.BodyHandlers.ofString());
                assertThat(before.body()).contains("\"valid\":true");
                producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), key.keyId(),
                        state(key, i, KeyStatus.INVALIDATED, Instant.now()))).get();
                long acknowledged = System.nanoTime();
                long deadline = acknowledged + TimeUnit.SECONDS.toNanos(10);
                while (true) {
                    String body = http.send(verifyRequest(port, key.apiKey()), HttpResponse.BodyHandlers.ofString()).body();
                    if (body.contains("\"reason\":\"invalidated\"")) {
                        samples[i] = System.nanoTime() - acknowledged;
                        break;
                    }
                    assertThat(System.nanoTime()).as("invalidation reaches /v1/verify").isLessThan(deadline);
                }
            }
        }
        Figures.print("verify.invalidation-propagation.p50", Figures.percentile(samples, 50) / 1e6, "ms");
        Figures.print("verify.invalidation-propagation.p99", Figures.percentile(samples, 99) / 1e6, "ms");
        Figures.print("verify.invalidation-propagation.max", Figures.percentile(samples, 100) / 1e6, "ms");
    }

    private static HttpRequest verifyRequest(int port, String apiKey) {
        String body = "{\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\"}";
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/verify"))
                .header("Authorization", "Bearer " + GATEWAY_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private ConfigurableApplicationContext startApp(Path dataDir) {
        Map<String, Object> props = new HashMap<>();
        props.put("keymeter.roles", "metering");
        props.put("spring.kafka.bootstrap-servers", bootstrap);
        props.put("server.port", "0");
        props.put("keymeter.data-dir", dataDir.toString());
        props.put("keymeter.gateway-tokens[0]", GATEWAY_TOKEN);
        props.put("keymeter.accounts[0].id", "bench");
        props.put("keymeter.accounts[0].token", "bench-account-token");
        props.put("logging.level.root", "WARN");
        ConfigurableApplicationContext app = new SpringApplicationBuilder(KeymeterApplication.class).properties(props).run();
        io.keymeter.metering.verify.KeyStateCache cache = app.getBean(io.keymeter.metering.verify.KeyStateCache.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cache.caughtUp() || (cache.size() < KEYS && System.nanoTime() < deadline)) {
            assertThat(System.nanoTime()).as("verify cache catches up").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        Figures.print("verify.cache.keys", cache.size(), "keys");
        return app;
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

    private void deleteRequests() throws Exception {
        try (Admin admin = admin()) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(Topics.REQUESTS.name(), p));
            }
            Map<TopicPartition, Long> ends = admin.listOffsets(partitions.stream()
                            .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()))).all().get()
                    .entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            admin.deleteRecords(ends.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                    e -> RecordsToDelete.beforeOffset(e.getValue())))).all().get();
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
