package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Topics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.PrometheusSamples;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * Keymeter's own counters on {@code /actuator/prometheus}: lines taken by ingest, answers of verify, requests judged
 * by metering. Ingest and verify count before they answer, so their deltas are exact; metering counts in its stream
 * thread, so the test waits for at least this test's requests (other classes' leftovers may add to it).
 */
@KeymeterIntegrationTest
class OperationalMetricsTest {

    @Autowired
    TestRestTemplate http;
    @Autowired
    List<StreamsApp> apps;

    @Test
    void ingestVerifyAndMeteringCountWhatTheyDidByOutcome() {
        Map<String, Double> before = scrape();
        String run = UUID.randomUUID().toString();
        String now = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        ApiKeys.GeneratedKey unknown = ApiKeys.generate();
        String good = line(run + "-1", unknown.apiKey(), now);
        String last = line(run + "-4", unknown.apiKey(), now);
        String body = String.join("\n", good, good, line(run + "-2", "not-a-key", now),
                "{\"requestId\":\"" + run + "-3\"}", last);
        ResponseEntity<String> ingest = post("/v1/requests", body, MediaType.parseMediaType("application/x-ndjson"));
        assertThat(ingest.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(post("/v1/verify", "{\"apiKey\":\"" + unknown.apiKey() + "\",\"service\":\"basemaps\"}",
                MediaType.APPLICATION_JSON).getBody()).contains("unknown-key");
        assertThat(post("/v1/verify", "{\"apiKey\":\"not-a-key\",\"service\":\"basemaps\"}",
                MediaType.APPLICATION_JSON).getBody()).contains("malformed-key");

        Map<String, Double> after = scrape();
        assertThat(delta(before, after, "keymeter_ingest_lines_total", "accepted")).isEqualTo(3.0);
        assertThat(delta(before, after, "keymeter_ingest_lines_total", "malformed-key")).isEqualTo(1.0);
        assertThat(delta(before, after, "keymeter_ingest_lines_total", "refused")).isEqualTo(1.0);
        assertThat(delta(before, after, "keymeter_verify_answers_total", "unknown-key")).isEqualTo(1.0);
        assertThat(delta(before, after, "keymeter_verify_answers_total", "malformed-key")).isEqualTo(1.0);
        assertThat(delta(before, after, "keymeter_verify_answers_total", "valid")).isZero();
        // every outcome is a series from the start, zeros included
        assertThat(after).containsKeys("keymeter_metering_requests_total|accepted",
                "keymeter_metering_requests_total|referrer-not-permitted", "keymeter_verify_answers_total|expired");
        assertThat(PrometheusSamples.untagged(http.getForObject("/actuator/prometheus", String.class),
                "keymeter_verify_unreadable_key_states_total")).as("verify's skipped key states, listed at 0").isPresent();

        // the resend is dropped by the dedupe, the other two judged unknown-key (the key was never issued). The three
        // share a key, so a partition, in this order: once the last one's rejection is on the topic, metering has
        // counted all three (other test classes' leftovers may add to these counters, never take away)
        await().atMost(Duration.ofSeconds(30)).until(() -> TopicReader.readAll(SharedKafka.bootstrapServers(),
                Topics.REJECTIONS).stream().anyMatch(r -> r.value().requestId().equals(run + "-4")));
        Map<String, Double> judged = scrape();
        assertThat(delta(before, judged, "keymeter_metering_requests_total", "unknown-key")).isGreaterThanOrEqualTo(2.0);
        assertThat(delta(before, judged, "keymeter_metering_requests_total", "duplicate")).isGreaterThanOrEqualTo(1.0);
    }

    /**
     * Kafka 4.4's transactional stores compute their uncommitted-bytes gauge from a RocksDB write batch without
     * checking it is still open: read while a store closes (a rebalance, a shutdown), it touched freed memory and
     * crashed the JVM (SIGSEGV in WriteBatch.getDataSize, from Micrometer's Kafka binder, which reads every metric the
     * application lists once a minute). The applications no longer list it; every other metric stays.
     */
    @Test
    void noStreamsApplicationListsTheStoresUncommittedBytesGauge() {
        for (StreamsApp app : apps) {
            var names = app.kafkaStreams().metrics().keySet();
            assertThat(names).as(app.name()).anyMatch(name -> name.group().equals("stream-thread-metrics"))
                    .anyMatch(name -> name.group().equals("stream-state-metrics"))
                    .noneMatch(name -> name.name().equals("uncommitted-bytes"));
        }
    }

    /** How far metering is behind, read from Kafka by the metering role: a number once Kafka has answered. */
    @Test
    void meteringsBacklogIsAGaugeReadFromKafka() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            double backlog = PrometheusSamples.untagged(http.getForObject("/actuator/prometheus", String.class),
                    "keymeter_metering_backlog_requests").orElseThrow();
            assertThat(backlog).isFinite().isNotNegative();
        });
    }

    private static String line(String requestId, String apiKey, String timestamp) {
        return "{\"requestId\":\"" + requestId + "\",\"apiKey\":\"" + apiKey + "\",\"service\":\"basemaps\","
                + "\"operation\":\"tile\",\"timestamp\":\"" + timestamp + "\"}";
    }

    private ResponseEntity<String> post(String path, String body, MediaType type) {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(type);
        headers.setBearerAuth(TestAccounts.GATEWAY_TOKEN);
        return http.postForEntity(path, new HttpEntity<>(body, headers), String.class);
    }

    /**
     * A gateway call refused before a handler is chosen (a 401, a 415 for a media type the call does not take) is
     * counted under its own path in {@code http_server_requests}, as the README says; it was {@code uri="UNKNOWN"}.
     */
    @Test
    void gatewayCallsRefusedBeforeRoutingAreCountedUnderTheirPath() {
        double refused415 = httpCount("415", "/v1/requests");
        double refused401 = httpCount("401", "/v1/verify");
        assertThat(post("/v1/requests", "x", MediaType.TEXT_PLAIN).getStatusCode().value()).isEqualTo(415);
        HttpHeaders noToken = new HttpHeaders();
        noToken.setContentType(MediaType.APPLICATION_JSON);
        assertThat(http.postForEntity("/v1/verify", new HttpEntity<>("{}", noToken), String.class).getStatusCode().value())
                .isEqualTo(401);

        // the server records a request when its answer is complete, a moment after the client has it
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(httpCount("415", "/v1/requests")).isEqualTo(refused415 + 1);
            assertThat(httpCount("401", "/v1/verify")).isEqualTo(refused401 + 1);
        });
    }

    /** {@code http_server_requests_seconds_count} summed over the samples with this status and uri. */
    private double httpCount(String status, String uri) {
        return http.getForObject("/actuator/prometheus", String.class).lines()
                .filter(l -> l.startsWith("http_server_requests_seconds_count{") && l.contains("status=\"" + status + "\"")
                        && l.contains("uri=\"" + uri + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Keymeter's samples as {@code name|outcome} → value. */
    private Map<String, Double> scrape() {
        return PrometheusSamples.byOutcome(http.getForObject("/actuator/prometheus", String.class));
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String name, String outcome) {
        String key = name + "|" + outcome;
        assertThat(after).containsKey(key);
        return after.get(key) - before.getOrDefault(key, 0.0);
    }
}
