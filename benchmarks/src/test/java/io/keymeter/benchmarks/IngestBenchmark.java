package io.keymeter.benchmarks;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * HTTP ingest ({@code POST /v1/requests}: parse, validate, hash, serialise, transactional publish) against the
 * baseline of a plain idempotent {@link KafkaProducer} loop writing the already-serialised records of the same
 * lines to {@code keymeter.requests}, on the same embedded broker, in the same run.
 * <p>
 * Run: {@code ./mvnw -q -B -pl benchmarks -am verify -Dbenchmark=IngestBenchmark -Dtest=IngestBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false} (options: {@code -Dingest.lines=2000000 -Dingest.clients=4
 * -Dingest.batch=5000 -Dingest.rounds=2}).
 */
class IngestBenchmark {

    private static final int LINES = Integer.getInteger("ingest.lines", 2_000_000);
    private static final int CLIENTS = Integer.getInteger("ingest.clients", 4);
    private static final int BATCH = Integer.getInteger("ingest.batch", 5000);
    /** {@code -Dbench.rounds}, as the other benchmarks; {@code -Dingest.rounds}, which earlier runs used, still read. */
    private static final int ROUNDS = Integer.getInteger("bench.rounds", Integer.getInteger("ingest.rounds", 2));
    private static final String GATEWAY = "bench-gateway";

    @Test
    void httpIngestAgainstARawProducer() throws Exception {
        String bootstrap = SharedKafka.bootstrapServers();
        ConfigurableApplicationContext app = new SpringApplication(KeymeterApplication.class).run(
                "--server.port=0", "--keymeter.roles=ingest",
                "--keymeter.data-dir=" + TempDirs.create("keymeter-bench"),
                "--spring.kafka.bootstrap-servers=" + bootstrap,
                "--keymeter.gateway-tokens[0]=" + GATEWAY,
                "--keymeter.accounts[0].id=bench", "--keymeter.accounts[0].token=token-bench",
                "--keymeter.ingest.publish.producers=" + CLIENTS,
                "--logging.level.io.keymeter=WARN");
        try {
            Workload workload = Workload.generate(LINES, BATCH);
            Figures.print("ingest.lines", LINES, "lines");
            Figures.print("ingest.body-bytes", workload.ndjsonBytes, "bytes");

            // warm both paths up (JIT, producer start, metadata) on a small share of the lines
            int port = ((WebServerApplicationContext) app).getWebServer().getPort();
            runHttp(port, workload.ndjson.subList(0, Math.min(20, workload.ndjson.size())));
            runRaw(bootstrap, workload.records.subList(0, Math.min(20, workload.records.size())));
            runRawTransactional(bootstrap, workload.records.subList(0, Math.min(20, workload.records.size())));

            // the machine is shared: the three paths take turns for ROUNDS rounds and the best round of each counts
            Result raw = null;
            Result rawTx = null;
            Result http = null;
            for (int round = 1; round <= ROUNDS; round++) {
                raw = best(raw, runRaw(bootstrap, workload.records));
                rawTx = best(rawTx, runRawTransactional(bootstrap, workload.records));
                http = best(http, runHttp(port, workload.ndjson));
            }
            report("raw-producer", raw, workload);
            report("raw-transactional", rawTx, workload);
            report("http-ingest", http, workload);
            Figures.ratio("ingest.http-vs-raw lines/s", http.linesPerSecond(), raw.linesPerSecond());
            Figures.ratio("ingest.raw-transactional-vs-raw lines/s", rawTx.linesPerSecond(), raw.linesPerSecond());
            Figures.ratio("ingest.http-vs-raw-transactional lines/s", http.linesPerSecond(), rawTx.linesPerSecond());
        } finally {
            app.close();
        }
    }

    private static Result best(Result a, Result b) {
        return a == null || b.linesPerSecond() > a.linesPerSecond() ? b : a;
    }

    private static void report(String name, Result result, Workload workload) {
        Figures.print("ingest." + name + " lines/s", result.linesPerSecond(), "lines/s");
        Figures.print("ingest." + name + " MB/s (NDJSON in)", workload.ndjsonBytes / 1e6 / result.seconds(), "MB/s");
        Figures.print("ingest." + name + " p99 batch latency", Figures.percentile(result.latenciesMicros, 99) / 1000.0, "ms");
        Figures.print("ingest." + name + " p50 batch latency", Figures.percentile(result.latenciesMicros, 50) / 1000.0, "ms");
    }

    /** Several HTTP clients post the NDJSON batches concurrently; a batch's latency is its round trip. */
    private static Result runHttp(int port, List<byte[]> batches) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create("http://localhost:" + port + "/v1/requests");
        AtomicInteger next = new AtomicInteger();
        long[] latencies = new long[batches.size()];
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        long started = System.nanoTime();
        List<Future<Long>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(pool.submit(() -> {
                long accepted = 0;
                int i;
                while ((i = next.getAndIncrement()) < batches.size()) {
                    long t0 = System.nanoTime();
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri)
                            .header("Authorization", "Bearer " + GATEWAY)
                            .header("Content-Type", "application/x-ndjson")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(batches.get(i))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    latencies[i] = (System.nanoTime() - t0) / 1000;
                    if (response.statusCode() != 202 || !response.body().endsWith("\"rejected\":[]}")) {
                        throw new IllegalStateException("batch " + i + ": " + response.statusCode() + " "
                                + response.body().substring(0, Math.min(300, response.body().length())));
                    }
                    accepted += Long.parseLong(response.body().replaceAll("^\\{\"accepted\":(\\d+).*", "$1"));
                }
                return accepted;
            }));
        }
        long accepted = 0;
        for (Future<Long> f : done) {
            accepted += f.get();
        }
        long elapsed = System.nanoTime() - started;
        pool.shutdown();
        return new Result(accepted, elapsed, latencies);
    }

    /** One idempotent producer (acks=all, same tuning as ingest) sends the pre-serialised records. */
    private static Result runRaw(String bootstrap, List<List<ProducerRecord<String, byte[]>>> batches) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        long[] latencies = new long[batches.size()];
        AtomicReference<Exception> failure = new AtomicReference<>();
        long count = 0;
        long started;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            CountDownLatch all = new CountDownLatch(batches.size());
            started = System.nanoTime();
            for (int b = 0; b < batches.size(); b++) {
                List<ProducerRecord<String, byte[]>> batch = batches.get(b);
                long t0 = System.nanoTime();
                AtomicInteger left = new AtomicInteger(batch.size());
                int index = b;
                for (ProducerRecord<String, byte[]> record : batch) {
                    producer.send(record, (metadata, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                        if (left.decrementAndGet() == 0) {
                            latencies[index] = (System.nanoTime() - t0) / 1000;
                            all.countDown();
                        }
                    });
                }
                count += batch.size();
            }
            all.await();
        }
        long elapsed = System.nanoTime() - started;
        if (failure.get() != null) {
            throw failure.get();
        }
        return new Result(count, elapsed, latencies);
    }

    /**
     * The design question of the publisher at the Kafka layer: {@link #CLIENTS} threads, each with its own
     * transactional producer and one transaction per batch (what ingest does), on the pre-serialised records.
     */
    private static Result runRawTransactional(String bootstrap, List<List<ProducerRecord<String, byte[]>>> batches)
            throws Exception {
        long[] latencies = new long[batches.size()];
        AtomicInteger next = new AtomicInteger();
        String prefix = "bench-tx-" + System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<Long>> done = new ArrayList<>();
        long started = System.nanoTime();
        for (int c = 0; c < CLIENTS; c++) {
            int slot = c;
            done.add(pool.submit(() -> {
                Map<String, Object> config = new HashMap<>();
                config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-" + slot);
                config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
                config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
                config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
                long count = 0;
                try (KafkaProducer<String, byte[]> producer =
                             new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
                    producer.initTransactions();
                    int i;
                    while ((i = next.getAndIncrement()) < batches.size()) {
                        long t0 = System.nanoTime();
                        producer.beginTransaction();
                        for (ProducerRecord<String, byte[]> record : batches.get(i)) {
                            producer.send(record);
                        }
                        producer.commitTransaction();
                        latencies[i] = (System.nanoTime() - t0) / 1000;
                        count += batches.get(i).size();
                    }
                }
                return count;
            }));
        }
        long count = 0;
        for (Future<Long> f : done) {
            count += f.get();
        }
        long elapsed = System.nanoTime() - started;
        pool.shutdown();
        return new Result(count, elapsed, latencies);
    }

    private record Result(long lines, long nanos, long[] latenciesMicros) {
        double seconds() {
            return nanos / 1e9;
        }

        double linesPerSecond() {
            return lines / seconds();
        }
    }

    /** The same lines twice: as NDJSON batches for HTTP, as serialised records for the raw producer. */
    private static final class Workload {
        final List<byte[]> ndjson = new ArrayList<>();
        final List<List<ProducerRecord<String, byte[]>>> records = new ArrayList<>();
        long ndjsonBytes;

        static Workload generate(int lines, int batchSize) {
            Random random = new Random(42);
            List<ApiKeys.GeneratedKey> keys = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                keys.add(ApiKeys.generate());
            }
            List<String> services = ServiceCatalog.ALL.stream().map(ServiceCatalog.Service::service).toList();
            String[] operations = {"tile", "search", "reverse", "route", "find-near", "summary"};
            Instant base = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);
            var serializer = Topics.REQUESTS.valueSerde().serializer();
            Workload w = new Workload();
            ByteArrayOutputStream out = new ByteArrayOutputStream(batchSize * 300);
            List<ProducerRecord<String, byte[]>> batch = new ArrayList<>(batchSize);
            for (int i = 0; i < lines; i++) {
                ApiKeys.GeneratedKey key = keys.get(random.nextInt(keys.size()));
                String service = services.get(random.nextInt(services.size()));
                String operation = operations[random.nextInt(operations.length)];
                int units = 1 + random.nextInt(3);
                String requestId = "bench-" + Long.toHexString(random.nextLong()) + "-" + i;
                Instant timestamp = base.plusMillis(i % 3_000_000);
                String referrer = "https://app" + random.nextInt(50) + ".example.com/map";
                String line = "{\"requestId\":\"" + requestId + "\",\"apiKey\":\"" + key.apiKey() + "\",\"service\":\""
                        + service + "\",\"operation\":\"" + operation + "\",\"units\":" + units
                        + ",\"referrer\":\"" + referrer + "\",\"timestamp\":\"" + timestamp + "\"}\n";
                out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
                RequestLog log = new RequestLog(requestId, key.keyId(), key.secretHash(), service, operation, units, null,
                        referrer, timestamp);
                batch.add(new ProducerRecord<>(Topics.REQUESTS.name(), key.keyId(),
                        serializer.serialize(Topics.REQUESTS.name(), log)));
                if (batch.size() == batchSize || i == lines - 1) {
                    byte[] body = out.toByteArray();
                    w.ndjson.add(body);
                    w.ndjsonBytes += body.length;
                    w.records.add(batch);
                    out.reset();
                    batch = new ArrayList<>(batchSize);
                }
            }
            return w;
        }
    }
}
