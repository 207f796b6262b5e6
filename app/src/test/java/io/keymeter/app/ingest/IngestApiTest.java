package io.keymeter.app.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code POST /v1/requests} through the whole app on the shared broker. */
@KeymeterIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class IngestApiTest {

    private static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Every key any test of this class sent, well-formed or not: none may show up on a topic or in the log. */
    private static final List<String> SENT_KEYS = new ArrayList<>();

    @Autowired
    TestRestTemplate rest;

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();

    @Test
    void aMixedBatchTakesTheGoodLinesAndNamesEachBadOne(CapturedOutput output) {
        ApiKeys.GeneratedKey key = sent(ApiKeys.generate());
        String good = key.apiKey();
        String badChecksum = sent(good.substring(0, good.length() - 1) + (good.endsWith("A") ? "B" : "A"));
        String badPrefix = sent("xx" + good.substring(2));
        String tooShort = sent(good.substring(0, 20));
        String old = Instant.now().minus(40, ChronoUnit.DAYS).toString();
        String future = Instant.now().plus(1, ChronoUnit.HOURS).toString();
        String body = String.join("\n",
                line("g1", good, "basemaps", "\"units\":3,\"operation\":\"tile\",\"itemId\":\"item-1\""),  // 1
                "{\"requestId\":\"" + run + "-x\", this is not json " + good,                               // 2
                "[\"" + good + "\"]",                                                                          // 3
                line(null, good, "basemaps", ""),                                                              // 4
                line("x".repeat(129), good, "basemaps", ""),                                                   // 5
                line("no-key", null, "basemaps", ""),                                                          // 6
                line("bad-service", good, "teleport", ""),                                                     // 7
                line("zero-units", good, "basemaps", "\"units\":0"),                                          // 8
                line("text-units", good, "basemaps", "\"units\":\"2\""),                                      // 9
                line("old", good, "basemaps", "").replace(now, old),                                           // 10
                line("future", good, "basemaps", "").replace(now, future),                                     // 11
                line("bad-time", good, "basemaps", "").replace(now, "26/11/2026"),                             // 12
                line("op-number", good, "basemaps", "\"operation\":42"),                                      // 13
                "",                                                                                            // 14
                line("m1", badChecksum, "routing", ""),                                                        // 15
                line("m2", badPrefix, "geocoding", "\"units\":2"),                                            // 16
                line("m3", tooShort, "places", ""),                                                            // 17
                line("g2", good, "routing", "\"referrer\":\"https://app.example.com/\""));                    // 18

        ResponseEntity<JsonNode> response = post(body, NDJSON, null);

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(response.getBody().get("accepted").asLong()).isEqualTo(5);
        Map<Integer, String> errors = new java.util.TreeMap<>();
        response.getBody().get("rejected").forEach(e -> errors.put(e.get("line").asInt(), e.get("error").asString()));
        assertThat(errors).containsOnlyKeys(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        assertThat(errors.get(2)).startsWith("line:");
        assertThat(errors.get(3)).startsWith("line:");
        assertThat(errors.get(4)).startsWith("requestId:");
        assertThat(errors.get(5)).startsWith("requestId:");
        assertThat(errors.get(6)).startsWith("apiKey:");
        assertThat(errors.get(7)).startsWith("service:");
        assertThat(errors.get(8)).startsWith("units:");
        assertThat(errors.get(9)).startsWith("units:");
        assertThat(errors.get(10)).startsWith("timestamp: is older");
        assertThat(errors.get(11)).startsWith("timestamp: is more");
        assertThat(errors.get(12)).startsWith("timestamp: must be");
        assertThat(errors.get(13)).startsWith("operation:");
        assertThat(response.toString()).doesNotContain(good).doesNotContain("teleport");

        Map<String, ConsumerRecord<String, RequestLog>> requests = ours(Topics.REQUESTS, RequestLog::requestId);
        assertThat(requests).containsOnlyKeys(run + "-g1", run + "-g2");
        RequestLog g1 = requests.get(run + "-g1").value();
        assertThat(requests.get(run + "-g1").key()).isEqualTo(key.keyId());
        assertThat(g1.keyId()).isEqualTo(key.keyId());
        assertThat(g1.secretHash()).isEqualTo(key.secretHash());
        assertThat(g1.units()).isEqualTo(3);
        assertThat(g1.operation()).isEqualTo("tile");
        assertThat(g1.itemId()).isEqualTo("item-1");
        assertThat(g1.timestamp()).isEqualTo(Instant.parse(now));
        assertThat(requests.get(run + "-g2").value().referrer()).isEqualTo("https://app.example.com/");

        Map<String, ConsumerRecord<String, Rejection>> rejections = ours(Topics.REJECTIONS, Rejection::requestId);
        // g1 and g2 carry a key that was never issued: metering may have judged them unknown-key by now
        for (String judged : List.of(run + "-g1", run + "-g2")) {
            ConsumerRecord<String, Rejection> verdict = rejections.remove(judged);
            if (verdict != null) {
                assertThat(verdict.value().reason()).as(judged).isEqualTo(RejectionReason.UNKNOWN_KEY);
            }
        }
        assertThat(rejections).containsOnlyKeys(run + "-m1", run + "-m2", run + "-m3");
        rejections.values().forEach(r -> {
            assertThat(r.key()).isEqualTo("malformed");
            assertThat(r.value().reason()).isEqualTo(RejectionReason.MALFORMED_KEY);
            assertThat(r.value().keyId()).isNull();
        });
        assertThat(rejections.get(run + "-m2").value().units()).isEqualTo(2);
        assertThat(rejections.get(run + "-m2").value().service()).isEqualTo("geocoding");
        assertNoKeyInLog(output);
    }

    @Test
    void aGzipNdjsonBodyIsTaken(CapturedOutput output) throws IOException {
        String key = sent(ApiKeys.generate()).apiKey();
        String body = line("z1", key, "elevation", "") + "\n" + line("z2", key, "elevation", "") + "\n";

        ResponseEntity<JsonNode> response = post(gzip(body.getBytes(StandardCharsets.UTF_8)), NDJSON, "gzip");

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(response.getBody().get("accepted").asLong()).isEqualTo(2);
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).containsOnlyKeys(run + "-z1", run + "-z2");
        assertNoKeyInLog(output);
    }

    @Test
    void aGzipBodyOfSeveralMembersIsTakenWholeWhereverAMemberEnds() throws IOException {
        String key = sent(ApiKeys.generate()).apiKey();
        // the first member stored, not compressed, and padded to end exactly where the server's body memory is cut
        // (64 KiB chunks): JDK 17's gzip reader then saw no bytes available and took it for the end of the body
        // (JDK 23 and later read on regardless; BodySpoolTest checks what is available on any JDK)
        List<String> lines = new ArrayList<>();
        while (storedGzip(String.join("\n", lines).getBytes(StandardCharsets.UTF_8)).length < 60_000) {
            lines.add(line("m" + lines.size(), key, "elevation", ""));
        }
        byte[] first = new byte[0];
        for (int pad = 0; first.length < 65_536; pad++) {
            String padded = line("m" + lines.size(), key, "elevation", "\"pad\":\"" + "x".repeat(pad) + "\"");
            first = storedGzip((String.join("\n", lines) + "\n" + padded + "\n").getBytes(StandardCharsets.UTF_8));
        }
        assertThat(first).as("a first member of exactly 64 KiB").hasSize(65_536);
        byte[] second = gzip((line("last1", key, "elevation", "") + "\n" + line("last2", key, "elevation", ""))
                .getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(first);
        body.write(second);

        ResponseEntity<JsonNode> response = post(body.toByteArray(), NDJSON, "gzip");

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(response.getBody().get("rejected")).isEmpty();
        assertThat(response.getBody().get("accepted").asLong()).as("both members").isEqualTo(lines.size() + 3L);
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).containsKeys(run + "-last1", run + "-last2");
    }

    /**
     * Bytes after a gzip member that are not another member (a plain line appended, a member cut inside its header):
     * JDK 17's reader took them for the end of the body and answered 202 for the first member's lines alone.
     */
    @Test
    void bytesAfterTheLastGzipMemberThatAreNotAMemberAreRefusedAndNothingIsVisible() throws IOException {
        String key = sent(ApiKeys.generate()).apiKey();
        byte[] member = gzip((line("g1", key, "elevation", "") + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] plain = (line("g2", key, "elevation", "") + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] cutHeader = java.util.Arrays.copyOf(gzip((line("g3", key, "elevation", "") + "\n")
                .getBytes(StandardCharsets.UTF_8)), 5);
        for (byte[] after : List.of(plain, cutHeader)) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(member);
            body.write(after);

            ResponseEntity<JsonNode> response = post(body.toByteArray(), NDJSON, "gzip");

            assertThat(response.getStatusCode()).as(String.valueOf(response.getBody())).isEqualTo(HttpStatus.BAD_REQUEST);
            assertThat(response.getHeaders().getContentType().toString()).startsWith("application/problem+json");
            assertThat(response.getBody().get("detail").asString()).startsWith("body: is not a valid gzip stream");
        }
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    /** A member's file name is read whole into memory by the gzip library: one longer than 64 KiB is refused. */
    @Test
    void aGzipHeaderWithAFileNameLongerThan64KibIsRefused() {
        byte[] header = {0x1f, (byte) 0x8b, 8, 8, 0, 0, 0, 0, 0, (byte) 0xff}; // deflate, FNAME set
        byte[] body = java.util.Arrays.copyOf(header, header.length + 1024 * 1024);
        java.util.Arrays.fill(body, header.length, body.length, (byte) 'a');

        ResponseEntity<JsonNode> response = post(body, NDJSON, "gzip");

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.getBody().get("detail").asString())
                .isEqualTo("body: is not a valid gzip stream (a member's header holds a field longer than 65536 bytes)");
    }

    @Test
    void aJsonArrayIsTakenAndItsElementsCountAsLines() {
        String key = sent(ApiKeys.generate()).apiKey();
        String body = "[" + line("a1", key, "places", "") + ", 7, " + line("a3", key, "teleport", "") + "]";

        ResponseEntity<JsonNode> response = post(body, MediaType.APPLICATION_JSON, null);

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(response.getBody().get("accepted").asLong()).isEqualTo(1);
        assertThat(response.getBody().get("rejected").toString())
                .contains("\"line\":2").contains("\"line\":3").contains("service:");
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).containsOnlyKeys(run + "-a1");
    }

    @Test
    void aBrokenJsonArrayIsRefusedWholeAndNothingOfItIsVisible() {
        String key = sent(ApiKeys.generate()).apiKey();
        String body = "[" + line("b1", key, "places", "") + ", {\"requestId\": ";

        ResponseEntity<JsonNode> response = post(body, MediaType.APPLICATION_JSON, null);

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.getHeaders().getContentType().toString()).startsWith("application/problem+json");
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    @Test
    void aBodyOver16MibAnswers413() {
        String key = sent(ApiKeys.generate()).apiKey();
        String one = line("big", key, "basemaps", "") + "\n";
        byte[] body = one.repeat((int) (16L * 1024 * 1024 / one.length()) + 10).getBytes(StandardCharsets.UTF_8);

        ResponseEntity<JsonNode> response = post(body, NDJSON, null);

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.valueOf(413));
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    @Test
    void aGzipJsonArrayThatInflatesPast64MibAnswers413() throws IOException {
        String key = sent(ApiKeys.generate()).apiKey();
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(compressed)) {
            gz.write(("[" + line("array-bomb", key, "basemaps", "")).getBytes(StandardCharsets.UTF_8));
            byte[] spaces = new byte[1024 * 1024];
            java.util.Arrays.fill(spaces, (byte) ' ');
            for (int mib = 0; mib < 65; mib++) {
                gz.write(spaces);
            }
            gz.write(']');
        }

        ResponseEntity<JsonNode> response = post(compressed.toByteArray(), MediaType.APPLICATION_JSON, "gzip");

        // the limit trips inside the JSON parser here, not between lines: still a 413, not "not valid JSON"
        assertThat(response.getStatusCode()).as(String.valueOf(response.getBody())).isEqualTo(HttpStatus.valueOf(413));
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    @Test
    void aGzipBodyThatInflatesPast64MibAnswers413AndNothingIsVisible() throws IOException {
        String key = sent(ApiKeys.generate()).apiKey();
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(compressed)) {
            gz.write((line("bomb", key, "basemaps", "") + "\n").getBytes(StandardCharsets.UTF_8));
            byte[] blankLines = new byte[1024 * 1024];
            java.util.Arrays.fill(blankLines, (byte) '\n');
            for (int mib = 0; mib < 65; mib++) {
                gz.write(blankLines);
            }
        }
        assertThat(compressed.size()).isLessThan(16 * 1024 * 1024);

        ResponseEntity<JsonNode> response = post(compressed.toByteArray(), NDJSON, "gzip");

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.valueOf(413));
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    @Test
    void moreThan100000BadLinesRefuseTheBodyWhole() {
        String key = sent(ApiKeys.generate()).apiKey();
        String body = line("cap", key, "basemaps", "") + "\n" + "{}\n".repeat(100_001);

        ResponseEntity<JsonNode> response = post(body, NDJSON, null);

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.getBody().get("detail").asString()).contains("100000");
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    @Test
    void otherContentTypesAndEncodingsAnswer415() {
        String body = line("t1", sent(ApiKeys.generate()).apiKey(), "basemaps", "");

        assertThat(post(body, MediaType.TEXT_PLAIN, null).getStatusCode()).isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
        assertThat(post(body, NDJSON, "br").getStatusCode()).isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
    }

    /**
     * A body declared in another charset was read as UTF-8 (a UTF-16 batch: 202, every line "not valid JSON"), and
     * of two Content-Encoding headers only the first was read (gzip bytes parsed as lines, each refused behind a 202).
     */
    @Test
    void aBatchInAnotherCharsetIsReadInItAndEveryEncodingHeaderCounts() throws Exception {
        String body = line("cs1", sent(ApiKeys.generate()).apiKey(), "basemaps", "\"operation\":\"caf\u00e9\"") + "\n";
        ResponseEntity<JsonNode> utf16 = post(body.getBytes(StandardCharsets.UTF_16),
                MediaType.parseMediaType("application/x-ndjson; charset=utf-16"), null);
        assertThat(utf16.getStatusCode()).as(String.valueOf(utf16.getBody())).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(utf16.getBody().get("accepted").asInt()).isEqualTo(1);
        // undeclared, it was cut at each 0A byte: line 1 taken, every later one refused; now refused whole
        ResponseEntity<JsonNode> undeclared = post((body + body.replace("cs1", "cs4")).getBytes(StandardCharsets.UTF_16LE),
                NDJSON, null);
        assertThat(undeclared.getStatusCode()).as(String.valueOf(undeclared.getBody())).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(undeclared.getBody().get("detail").asString()).startsWith("body: is not UTF-8");
        String latin = line("cs3", sent(ApiKeys.generate()).apiKey(), "basemaps", "\"operation\":\"caf\u00e9\"");
        ResponseEntity<JsonNode> latin1 = post(latin.getBytes(StandardCharsets.ISO_8859_1),
                MediaType.parseMediaType("application/x-ndjson; charset=iso-8859-1"), null);
        assertThat(latin1.getBody().get("accepted").asInt()).as(String.valueOf(latin1.getBody())).isEqualTo(1);
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).hasEntrySatisfying(run + "-cs1",
                r -> assertThat(r.value().operation()).isEqualTo("caf\u00e9"))
                .hasEntrySatisfying(run + "-cs3", r -> assertThat(r.value().operation()).isEqualTo("caf\u00e9"));

        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(NDJSON);
        headers.setBearerAuth(TestAccounts.GATEWAY_TOKEN);
        headers.add(HttpHeaders.CONTENT_ENCODING, "identity");
        headers.add(HttpHeaders.CONTENT_ENCODING, "gzip");
        byte[] zipped = gzip(line("cs2", sent(ApiKeys.generate()).apiKey(), "basemaps", "").getBytes(StandardCharsets.UTF_8));
        ResponseEntity<String> two = rest.postForEntity("/v1/requests", new HttpEntity<>(zipped, headers), String.class);
        assertThat(two.getStatusCode()).as(two.getBody()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(JSON.readTree(two.getBody()).get("accepted").asInt()).isEqualTo(1);
        headers.set(HttpHeaders.CONTENT_ENCODING, "gzip, gzip");
        assertThat(rest.postForEntity("/v1/requests", new HttpEntity<>(zipped, headers), String.class).getStatusCode())
                .isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
    }

    @Test
    void withoutAGatewayTokenAnswers401() {
        String body = line("u1", sent(ApiKeys.generate()).apiKey(), "basemaps", "");
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(NDJSON);
        assertThat(rest.postForEntity("/v1/requests", new HttpEntity<>(body, headers), String.class).getStatusCode())
                .isEqualTo(HttpStatus.UNAUTHORIZED);
        headers.setBearerAuth(TestAccounts.token("acme"));
        assertThat(rest.postForEntity("/v1/requests", new HttpEntity<>(body, headers), String.class).getStatusCode())
                .isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    /**
     * The token check must see the path the servlet container and Spring route by: a path parameter ({@code ;x}) or
     * a percent-encoded letter reaches the same controller, and so needs the same token.
     */
    @Test
    void aPathSpelledAnotherWayNeedsTheSameToken() throws Exception {
        String body = line("p1", sent(ApiKeys.generate()).apiKey(), "basemaps", "");
        String account = TestAccounts.token("acme");
        assertThat(raw("POST", "/v1;x/requests", null, body)).as("path parameter, no token").isEqualTo(401);
        assertThat(raw("POST", "/%76%31/requests", null, body)).as("encoded letters, no token").isEqualTo(401);
        assertThat(raw("POST", "/v1/requests;x", account, body)).as("path parameter, an account token").isEqualTo(401);
        assertThat(raw("POST", "/v1;x/verify", null, "{}")).as("verify, no token").isEqualTo(401);
        assertThat(raw("GET", "/v1;x/credentials", null, null)).as("credentials, no token").isEqualTo(401);
        assertThat(raw("GET", "/v1;x/credentials", account, null)).as("the same path with its token").isEqualTo(200);
        // Spring routes by the URI with its dot segments, the servlet container resolves them: both views are guarded
        assertThat(raw("GET", "/v1/a/../../x", null, null)).as("dot segments leaving /v1").isEqualTo(401);
        assertThat(ours(Topics.REQUESTS, RequestLog::requestId)).isEmpty();
    }

    /** Sends the path exactly as written (a RestTemplate would encode it) and answers the status. */
    private int raw(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(rest.getRootUri() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", path.contains("requests") ? NDJSON.toString() : "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @AfterAll
    static void noKeyWasEverPublished() {
        for (String topic : List.of(Topics.REQUESTS.name(), Topics.REJECTIONS.name())) {
            // read_uncommitted: what an open or aborted transaction holds counts too
            List<ConsumerRecord<byte[], byte[]>> records = TopicReader.readRaw(SharedKafka.bootstrapServers(), topic,
                    false);
            assertThat(records).isNotEmpty();
            for (ConsumerRecord<byte[], byte[]> record : records) {
                String text = new String(record.value(), StandardCharsets.UTF_8)
                        + (record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8));
                synchronized (SENT_KEYS) {
                    SENT_KEYS.forEach(key -> assertThat(text).doesNotContain(key));
                }
            }
        }
    }

    private void assertNoKeyInLog(CapturedOutput output) {
        synchronized (SENT_KEYS) {
            SENT_KEYS.forEach(key -> assertThat(output.getAll()).doesNotContain(key));
        }
    }

    private String line(String id, String apiKey, String service, String extra) {
        StringBuilder b = new StringBuilder("{");
        if (id != null) {
            b.append("\"requestId\":\"").append(id.length() > 100 ? id : run + "-" + id).append("\",");
        }
        if (apiKey != null) {
            b.append("\"apiKey\":\"").append(apiKey).append("\",");
        }
        b.append("\"service\":\"").append(service).append("\",\"timestamp\":\"").append(now).append("\"");
        if (!extra.contains("\"operation\"")) {
            b.append(",\"operation\":\"query\"");
        }
        if (!extra.isEmpty()) {
            b.append(",").append(extra);
        }
        return b.append("}").toString();
    }

    private ResponseEntity<JsonNode> post(Object body, MediaType type, String encoding) {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(type);
        headers.setBearerAuth(TestAccounts.GATEWAY_TOKEN);
        if (encoding != null) {
            headers.set(HttpHeaders.CONTENT_ENCODING, encoding);
        }
        ResponseEntity<String> response = rest.postForEntity("/v1/requests", new HttpEntity<>(body, headers), String.class);
        JsonNode json = response.getBody() == null ? null : JSON.readTree(response.getBody());
        return ResponseEntity.status(response.getStatusCode()).headers(response.getHeaders()).body(json);
    }

    /** This test's records on a topic (by requestId prefix), keyed by requestId without the prefix check. */
    private <V> Map<String, ConsumerRecord<String, V>> ours(io.keymeter.events.Topic<String, V> topic,
                                                             Function<V, String> requestId) {
        return TopicReader.readAllSettled(SharedKafka.bootstrapServers(), topic).stream()
                .filter(r -> r.value() != null && requestId.apply(r.value()) != null
                        && requestId.apply(r.value()).startsWith(run + "-"))
                .collect(Collectors.toMap(r -> requestId.apply(r.value()), Function.identity()));
    }

    private static ApiKeys.GeneratedKey sent(ApiKeys.GeneratedKey key) {
        sent(key.apiKey());
        return key;
    }

    private static String sent(String apiKey) {
        synchronized (SENT_KEYS) {
            SENT_KEYS.add(apiKey);
        }
        return apiKey;
    }

    private static byte[] storedGzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out) {
            {
                def.setLevel(Deflater.NO_COMPRESSION);
            }
        }) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }
}
