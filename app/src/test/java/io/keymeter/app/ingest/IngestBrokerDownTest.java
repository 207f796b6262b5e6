package io.keymeter.app.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.FreePorts;
import io.keymeter.testsupport.TempDirs;
import io.keymeter.testsupport.TopicReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Backpressure, not loss: with its own broker stopped, a batch answers 503 with Retry-After in bounded time and
 * leaves nothing visible; once the broker is back, the resent batch is on the topic exactly once (whole, and more
 * than once only if a resend was itself refused after its commit went through). Runs the ingest
 * role alone in its own context, on its own broker (the shared one must not be stopped), with a short publish
 * timeout; which also shows that an upload slower than that timeout is not cut by it.
 */
@Timeout(150)
class IngestBrokerDownTest {

    private static final String GATEWAY = "broker-down-gateway";
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(3);

    private EmbeddedKafkaBroker broker;
    private ConfigurableApplicationContext app;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void start() throws IOException {
        Path dir = TempDirs.create("keymeter-broker-down");
        // a fixed port: producers keep their bootstrap address across the restart
        broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), FreePorts.next()).start();
        app = new SpringApplication(KeymeterApplication.class).run(
                "--server.port=0",
                "--keymeter.roles=ingest",
                "--keymeter.data-dir=" + dir,
                "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                "--keymeter.gateway-tokens[0]=" + GATEWAY,
                "--keymeter.accounts[0].id=down",
                "--keymeter.accounts[0].token=token-down",
                "--keymeter.ingest.publish.timeout=" + PUBLISH_TIMEOUT);
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        broker.stop();
    }

    @Test
    void aBatchAnswers503WhileTheBrokerIsDownAndIsTakenExactlyOnceWhenResent() throws Exception {
        String key = ApiKeys.generate().apiKey();
        String before = batch("before", key, 50);
        String during = batch("during", key, 50);
        // the first batch also starts a producer: on a busy machine that may take longer than the publish timeout
        int refusedBefore = postUntilAccepted(before, Duration.ofMillis(100));

        broker.stop();
        long started = System.nanoTime();
        HttpResponse<String> refused = post(during);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        assertThat(refused.body()).contains("\"status\":503").doesNotContain(key);
        // bounded: the commit waits at most max.block.ms (= the publish timeout), not Kafka's default 60 s; the bound
        // leaves a loaded machine room (4 x the timeout, 12 s, was close to the watchdog's own 6 s)
        assertThat(took).isLessThan(Duration.ofSeconds(40));

        // a body bad for good is a 400 with Kafka down too (no retry can fix it), and one whose every line is refused
        // needs no Kafka: both were 503s, each waiting for a new producer first
        HttpResponse<String> notAnArray = post(HttpRequest.BodyPublishers.ofString("{}"), "application/json");
        assertThat(notAnArray.statusCode()).as(notAnArray.body()).isEqualTo(400);
        assertThat(notAnArray.body()).contains("array");
        HttpResponse<String> allRefused = post("{\"requestId\":\"" + run + "-bad\"}\nnot json");
        assertThat(allRefused.statusCode()).as(allRefused.body()).isEqualTo(202);
        assertThat(allRefused.body()).contains("\"accepted\":0").contains("\"line\":1").contains("\"line\":2");
        HttpResponse<String> blank = post("\n  \n");
        assertThat(blank.statusCode()).as(blank.body()).isEqualTo(202);
        assertThat(blank.body()).isEqualTo("{\"accepted\":0,\"rejected\":[]}");

        broker.start();
        // the refused attempt's batch is sent again until taken; what a reader sees of it is checked below: every line
        // as often as every other (a batch whole or not at all), at most once per attempt
        int refusedDuring = postUntilAccepted(during, Duration.ofMillis(500));

        Map<String, Long> counts = ours();
        assertThat(counts).containsOnlyKeys(concat(ids("before", 50), ids("during", 50)));
        assertTakenWholeOnce(counts, ids("before", 50), refusedBefore);
        assertTakenWholeOnce(counts, ids("during", 50), refusedDuring);
    }

    @Test
    void anUploadSlowerThanTwiceThePublishTimeoutIsTaken() throws Exception {
        String key = ApiKeys.generate().apiKey();
        postUntilAccepted(batch("warm", key, 1), Duration.ofMillis(100));
        // 80 lines, one every 100 ms: 8 s on the wire, past the 6 s a batch's transaction may stay open
        List<String> lines = batch("slow", key, 80).lines().toList();
        HttpResponse<String> answer = post(HttpRequest.BodyPublishers.ofInputStream(() -> new SlowBody(lines)));

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        assertThat(answer.body()).contains("\"accepted\":80");
        Map<String, Long> counts = ours();
        assertThat(counts).containsOnlyKeys(concat(ids("warm", 1), ids("slow", 80)));
        assertThat(counts.values()).containsOnly(1L);
    }

    /** A body sent the way a client on a slow link sends it: a line every 100 ms. */
    private static final class SlowBody extends InputStream {
        private final java.util.Iterator<String> lines;
        private byte[] current = new byte[0];
        private int position;

        SlowBody(List<String> lines) {
            this.lines = lines.iterator();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (position == current.length) {
                if (!lines.hasNext()) {
                    return -1;
                }
                try {
                    Thread.sleep(100); // the client's pace, not a wait for this test's asynchronous work
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                current = (lines.next() + "\n").getBytes(StandardCharsets.UTF_8);
                position = 0;
            }
            int n = Math.min(len, current.length - position);
            System.arraycopy(current, position, b, off, n);
            position += n;
            return n;
        }
    }

    /** Posts until 202 and returns how many attempts were refused. */
    private int postUntilAccepted(String body, Duration poll) {
        AtomicInteger refused = new AtomicInteger();
        await().atMost(Duration.ofSeconds(60)).pollInterval(poll).until(() -> {
            boolean accepted = post(body).statusCode() == 202;
            if (!accepted) {
                refused.incrementAndGet();
            }
            return accepted;
        });
        return refused.get();
    }

    /**
     * Every line of a batch the same number of times: once, or, only when resends were refused, at most once more
     * per refusal (a commit that went through but was not confirmed within the timeout, as ingest/README says).
     */
    private static void assertTakenWholeOnce(Map<String, Long> counts, List<String> batch, int refused) {
        List<Long> copies = batch.stream().map(counts::get).distinct().toList();
        assertThat(copies).as("copies of each line of the batch").singleElement()
                .satisfies(n -> assertThat(n).isBetween(1L, 1L + refused));
    }

    private Map<String, Long> ours() {
        return TopicReader.readAllSettled(broker.bootstrapServers(), Topics.REQUESTS).stream()
                .map(r -> r.value().requestId()).filter(id -> id.startsWith(run))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    private List<String> ids(String phase, int n) {
        return IntStream.range(0, n).mapToObj(i -> run + "-" + phase + "-" + i).toList();
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }

    private String batch(String phase, String key, int n) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        return ids(phase, n).stream()
                .map(id -> "{\"requestId\":\"" + id + "\",\"apiKey\":\"" + key
                        + "\",\"service\":\"routing\",\"operation\":\"solve\",\"timestamp\":\"" + now + "\"}")
                .collect(Collectors.joining("\n"));
    }

    private HttpResponse<String> post(String body) throws IOException, InterruptedException {
        return post(HttpRequest.BodyPublishers.ofString(body));
    }

    private HttpResponse<String> post(HttpRequest.BodyPublisher body) throws IOException, InterruptedException {
        return post(body, "application/x-ndjson");
    }

    private HttpResponse<String> post(HttpRequest.BodyPublisher body, String contentType)
            throws IOException, InterruptedException {
        int port = ((WebServerApplicationContext) app).getWebServer().getPort();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/requests"))
                .header("Authorization", "Bearer " + GATEWAY)
                .header("Content-Type", contentType)
                .timeout(Duration.ofSeconds(30))
                .POST(body).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
