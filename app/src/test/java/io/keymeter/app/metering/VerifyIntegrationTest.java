package io.keymeter.app.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.KafkaClients;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.jetty.JettyWebServer;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.JdkClientHttpRequestFactory;

/** {@code POST /v1/verify} answering from the locally tailed key states. */
@KeymeterIntegrationTest
class VerifyIntegrationTest {

    private static final String ACCOUNT = "cyberdyne";

    @Autowired
    TestRestTemplate http;

    @Autowired
    KafkaClients clients;

    @Autowired
    WebServerApplicationContext context;

    @Test
    void isServedByJetty() {
        // its tail latency at 2,000 req/s was 2.2-4.8x lower than Tomcat's (docs/benchmarks.md, session 7)
        assertThat(context.getWebServer()).isInstanceOf(JettyWebServer.class);
    }

    /**
     * A client that keeps an idle connection longer than Jetty can send a call on it just as Jetty closes it, and a
     * POST is not sent again (this suite's verify failed once so, on CI): the tests' JDK clients let theirs go first.
     */
    @Test
    void theTestsHttpClientsDropAnIdleConnectionBeforeJettyDoes() {
        // the setting reaches the JDK's client only: another one on the class path would take TestRestTemplate's place
        assertThat(http.getRestTemplate().getRequestFactory()).isInstanceOf(JdkClientHttpRequestFactory.class);
        Duration clients = Duration.ofSeconds(Long.parseLong(System.getProperty("jdk.httpclient.keepalive.timeout",
                "1200"))); // Java 17's default
        Connector[] connectors = ((JettyWebServer) context.getWebServer()).getServer().getConnectors();
        assertThat(connectors).isNotEmpty().allSatisfy(connector -> assertThat(clients)
                .isLessThan(Duration.ofMillis(((AbstractConnector) connector).getIdleTimeout()).minusSeconds(5)));
    }

    @Test
    void answersValidWithTheKeyAndThenInvalidatedOnceTheKeyIsInvalidated() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        String credential = "cred-" + UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant expiresAt = now.plus(Duration.ofDays(30));
        publish(state(key, credential, KeyStatus.ACTIVE, expiresAt, List.of(), now.minusSeconds(5)));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps")).getBody())
                        .containsEntry("valid", true));
        assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps")).getBody()).isEqualTo(Map.of(
                "valid", true, "credentialId", credential, "keyId", key.keyId(), "slot", 1,
                "expiresAt", expiresAt.toString()));

        publish(state(key, credential, KeyStatus.INVALIDATED, expiresAt, List.of(), now));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps")).getBody())
                        .isEqualTo(Map.of("valid", false, "reason", "invalidated")));
    }

    @Test
    void refusesWithTheSameReasonsAsMetering() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant now = Instant.now();
        publish(state(key, "cred-" + UUID.randomUUID(), KeyStatus.ACTIVE, now.plus(Duration.ofDays(1)),
                List.of("https://*.example.com"), now.minusSeconds(5)));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(verify(Map.of("apiKey", key.apiKey(),
                "service", "basemaps", "referrer", "https://app.example.com/")).getBody()).containsEntry("valid", true));

        assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "routing", "referrer", "https://example.com")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "service-not-permitted"));
        assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps", "referrer", "https://evil.test")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "referrer-not-permitted"));
        assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "referrer-not-permitted"));
        assertThat(verify(Map.of("apiKey", "km_not-a-key", "service", "basemaps")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "malformed-key"));
        assertThat(verify(Map.of("apiKey", ApiKeys.generate().apiKey(), "service", "basemaps")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "unknown-key"));
        String otherSecret = ApiKeys.generate(key.keyId()).apiKey();
        assertThat(verify(Map.of("apiKey", otherSecret, "service", "basemaps")).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "unknown-key"));
    }

    @Test
    void needsAGatewayToken() {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);
        headers.setBearerAuth(TestAccounts.token(ACCOUNT));
        ResponseEntity<String> response = http.postForEntity("/v1/verify",
                new HttpEntity<>(Map.of("apiKey", ApiKeys.generate().apiKey(), "service", "basemaps"), headers), String.class);
        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
    }

    @Test
    void anUnknownFieldIsABadRequestNamingIt() {
        ResponseEntity<Map> response = verify(Map.of("apiKey", "x", "service", "basemaps", "referer", "https://a.example"));
        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.getHeaders().getContentType().toString()).startsWith("application/problem+json");
        assertThat(response.getBody().toString()).contains("unknown field 'referer'; did you mean 'referrer'?");
        assertThat(verify(Map.of("apiKey", "x", "service", "basemaps", "itemID", "i-1")).getBody().toString())
                .contains("unknown field 'itemID'; did you mean 'itemId'?");
        assertThat(verify(Map.of("apiKey", "x", "service", "basemaps", "gateway", "g1")).getBody().toString())
                .contains("unknown field 'gateway'").doesNotContain("did you mean");
    }

    /** The service is the gateway's to send (it was answered service-not-permitted); a missing key is malformed. */
    @Test
    void withoutAServiceIsABadRequestAndWithoutAKeyIsMalformed() {
        ResponseEntity<Map> noService = verify(Map.of("apiKey", ApiKeys.generate().apiKey()));
        assertThat(noService.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(noService.getBody().toString()).contains("service", "is required");
        assertThat(verify(Map.of("apiKey", "x", "service", " ")).getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(verify(Map.of("service", "basemaps")).getBody()).isEqualTo(Map.of("valid", false, "reason", "malformed-key"));
    }

    /**
     * What ingest would refuse of the request's line is refused here too, with ingest's words: it was answered
     * (valid, or service-not-permitted for a service no catalog has), and a gateway that served the call on a valid
     * answer then had its line refused, the request served and never billed.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "service   | Geocoding | service: is not a service of the catalog",
            "service   | ' basemaps' | service: is not a service of the catalog",
            "referrer  | 2049      | referrer: must be at most 2048 characters",
            "itemId    | 2049      | itemId: must be at most 2048 characters",
            "operation | 2049      | operation: must be at most 2048 characters",
    })
    void whatIngestWouldRefuseOfTheLineIsABadRequest(String field, String value, String error) {
        Map<String, Object> body = withField(field,
                value.matches("\\d+") ? "https://a.example/" + "x".repeat(Integer.parseInt(value) - 18) : value);
        assertRefused(body, error);

        if (!"service".equals(field)) { // at the bound, answered
            body.put(field, "https://a.example/" + "x".repeat(2048 - 18));
            assertThat(verify(body).getBody()).isEqualTo(Map.of("valid", false, "reason", "unknown-key"));
        }
    }

    /**
     * The rest of the line, when sent, is checked as ingest checks it (a differential probe: each was answered valid,
     * then its line refused at ingest, the request served and never billed).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "requestId | ''                     | requestId: must be 1-128 characters",
            "requestId | 129                    | requestId: must be 1-128 characters",
            "operation | ''                     | operation: is required",
            "units     | 0                      | units: must be a positive integer",
            "units     | 2147483648             | units: must be at most 2147483647",
            "units     | 99999999999999999999999 | units: must be at most 2147483647",
            "units     | 2.5                    | units: must be a positive integer",
            "units     | text:5                 | units: must be a positive integer",
            "timestamp | 2026-11-26 10:15:30Z   | timestamp: must be an RFC 3339 date-time",
            "timestamp | 1969-12-31T23:59:59Z   | timestamp: must not be before 1970-01-01T00:00:00Z",
    })
    void theOtherFieldsOfARequestLineAreCheckedAsIngestChecksThem(String field, String value, String error) {
        assertRefused(withField(field, "units".equals(field) ? (value.startsWith("text:") ? value.substring(5)
                : value.contains(".") ? (Object) new java.math.BigDecimal(value) : new java.math.BigInteger(value))
                : "129".equals(value) ? "r".repeat(129) : value), error);
    }

    /**
     * A requestId holding an API key is refused at ingest (masked, two requests of one key would share an id): verify
     * answered valid for it, and the request was served and never billed.
     */
    @Test
    void aRequestIdHoldingAnApiKeyIsRefusedAsIngestRefusesIt() {
        assertRefused(withField("requestId", "gw-" + ApiKeys.generate().apiKey()),
                "requestId: holds an API key (km_…): give each request an id of the gateway's own");
    }

    /**
     * An item id shaped like a key (km_, 16 base62 characters, _, 16 or more) is masked by ingest, and metering judges
     * the masked one: verify judges it so too (it answered valid, then metering refused the line item-not-permitted,
     * the request served and never billed).
     */
    @Test
    void anItemIdShapedLikeAKeyIsJudgedMaskedAsMeteringJudgesIt() throws Exception {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant now = Instant.now();
        String keyShaped = "km_basemapsEurope24_tilesAndLabels2026";
        ApiKeyState restricted = state(key, "cred-" + UUID.randomUUID(), KeyStatus.ACTIVE, now.plus(Duration.ofDays(1)),
                List.of(), now.minusSeconds(5));
        publish(new ApiKeyState(restricted.keyId(), restricted.credentialId(), restricted.accountId(), 1,
                restricted.status(), restricted.expiresAt(), restricted.secretHash(), restricted.privileges(),
                List.of(keyShaped, "plain-item"), List.of(), restricted.updatedAt()));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(verify(Map.of("apiKey", key.apiKey(),
                "service", "basemaps", "itemId", "plain-item")).getBody()).containsEntry("valid", true));

        assertThat(verify(Map.of("apiKey", key.apiKey(), "service", "basemaps", "itemId", keyShaped)).getBody())
                .isEqualTo(Map.of("valid", false, "reason", "item-not-permitted"));
    }

    /** A call with a new key, for basemaps, and {@code field} set to {@code value}. */
    private static Map<String, Object> withField(String field, Object value) {
        Map<String, Object> body = new HashMap<>(Map.of("apiKey", ApiKeys.generate().apiKey(), "service", "basemaps"));
        body.put(field, value);
        return body;
    }

    private void assertRefused(Map<String, Object> body, String error) {
        ResponseEntity<Map> response = verify(body);
        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.getBody().toString()).contains(error);
    }

    @Test
    void theOtherFieldsOfARequestLineAreTakenAndIgnored() {
        ResponseEntity<Map> response = verify(Map.of("requestId", "r-1", "apiKey", ApiKeys.generate().apiKey(),
                "service", "basemaps", "operation", "tile", "units", 3, "timestamp", "2026-11-26T10:15:30Z"));
        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(response.getBody()).isEqualTo(Map.of("valid", false, "reason", "unknown-key"));
    }

    @SuppressWarnings("rawtypes")
    private ResponseEntity<Map> verify(Map<String, ?> body) {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);
        headers.setBearerAuth(TestAccounts.GATEWAY_TOKEN);
        return http.postForEntity("/v1/verify", new HttpEntity<>(body, headers), Map.class);
    }

    private void publish(ApiKeyState state) throws Exception {
        try (KafkaProducer<String, ApiKeyState> producer = new KafkaProducer<>(clients.producer("verify-it"),
                Topics.API_KEYS.keySerde().serializer(), Topics.API_KEYS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, state.updatedAt().toEpochMilli(),
                    state.keyId(), state)).get();
        }
    }

    private static ApiKeyState state(ApiKeys.GeneratedKey key, String credential, KeyStatus status, Instant expiresAt,
                                     List<String> referrers, Instant at) {
        return new ApiKeyState(key.keyId(), credential, ACCOUNT, 1, status, expiresAt, key.secretHash(),
                List.of("premium:user:basemaps"), List.of(), referrers, at);
    }
}
