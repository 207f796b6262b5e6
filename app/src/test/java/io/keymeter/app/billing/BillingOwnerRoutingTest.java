package io.keymeter.app.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.Json;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.FreePorts;
import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.testsupport.TempDirs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Two billing-report instances in one consumer group, each owning part of the accounts: a report asked of either
 * instance is answered by the account's owner (forwarded when needed) and is the same. One is given its
 * {@code application.server}, the other derives it from {@code server.port} as by default. The instances run on their
 * own broker, so their application id does not meet the shared test context's.
 */
@Timeout(240)
class BillingOwnerRoutingTest {

    private static final String CYCLE = "2025-05";
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static EmbeddedKafkaBroker broker;
    private static final List<ConfigurableApplicationContext> instances = new ArrayList<>();
    private static final List<Integer> ports = new ArrayList<>();

    @BeforeAll
    static void startTwoInstances() throws Exception {
        broker = new EmbeddedKafkaBroker(TempDirs.create("billing-routing-kafka"), 0).start();
        for (int i = 0; i < 2; i++) {
            int port = FreePorts.next();
            ports.add(port);
            Map<String, Object> props = new HashMap<>();
            props.put("server.port", port);
            props.put("keymeter.roles", "billing-report");
            props.put("spring.kafka.bootstrap-servers", broker.bootstrapServers());
            props.put("keymeter.data-dir", TempDirs.create("billing-routing-" + i).toString());
            if (i == 0) {
                props.put("spring.kafka.streams.properties[application.server]", "localhost:" + port);
            } else {
                // derived from the advertised host and server.port, as by default: without it this instance
                // answered the other's accounts with an empty report
                props.put("keymeter.credentials.advertised-host", "localhost");
            }
            int n = 0;
            for (Map.Entry<String, String> account : TestAccounts.ALL.entrySet()) {
                props.put("keymeter.accounts[" + n + "].id", account.getKey());
                props.put("keymeter.accounts[" + n + "].token", account.getValue());
                n++;
            }
            props.put("keymeter.gateway-tokens[0]", TestAccounts.GATEWAY_TOKEN);
            // as arguments: they must win over application.yml (server.port 8080)
            String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            instances.add(new SpringApplicationBuilder(KeymeterApplication.class).run(args));
        }
    }

    @AfterAll
    static void stop() {
        instances.forEach(ConfigurableApplicationContext::close);
        if (broker != null) {
            broker.stop();
        }
    }

    @Test
    void eitherInstanceAnswersEveryAccountFromItsOwner() throws Exception {
        List<String> accounts = new ArrayList<>(TestAccounts.ALL.keySet());
        Map<String, Long> expectedUnits = new HashMap<>();
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, UsageDaily> producer = new KafkaProducer<>(config,
                Topics.USAGE_DAILY.keySerde().serializer(), Topics.USAGE_DAILY.valueSerde().serializer())) {
            for (int i = 0; i < accounts.size(); i++) {
                UsageDaily day = new UsageDaily(accounts.get(i), "cred-" + i, "routing", LocalDate.parse("2025-05-10"),
                        1, 10L * (i + 1));
                expectedUnits.put(accounts.get(i), day.units());
                producer.send(new ProducerRecord<>(Topics.USAGE_DAILY.name(), day.key(), day)).get();
            }
        }
        String stolenKeyId = "stolenKey" + UUID.randomUUID().toString().substring(0, 7);
        try (KafkaProducer<String, SecurityAlert> producer = new KafkaProducer<>(config,
                Topics.SECURITY_ALERTS.keySerde().serializer(), Topics.SECURITY_ALERTS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.SECURITY_ALERTS.name(), "cred-0", new SecurityAlert(
                    "invalid-key-in-use", accounts.get(0), "cred-0", stolenKeyId, "invalidated", 2,
                    Instant.parse("2025-05-11T08:00:00Z"), Instant.parse("2025-05-11T08:05:00Z")))).get();
        }

        Set<String> answeredBy = new HashSet<>();
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
            answeredBy.clear();
            for (String account : accounts) {
                for (int port : ports) {
                    HttpResponse<String> response = get(port, account, "/v1/usage?cycle=" + CYCLE);
                    assertThat(response.statusCode()).as(account + " on " + port + ": " + response.body()).isEqualTo(200);
                    JsonNode report = Json.mapper().readTree(response.body());
                    assertThat(report.path("services").path(0).path("units").asLong()).as(account + " on " + port)
                            .isEqualTo(expectedUnits.get(account));
                    assertThat(report.path("credentials").size()).isEqualTo(1);
                    String owner = response.headers().firstValue("X-Keymeter-Answered-By").orElseThrow();
                    answeredBy.add(owner);
                }
            }
            // both instances own some accounts, so some answers above were forwarded
            assertThat(answeredBy).containsExactlyInAnyOrder("localhost:" + ports.get(0), "localhost:" + ports.get(1));
        });

        String account = accounts.get(0);
        // asked until the alert is read, and again while a rebalance between the two answers 503 for a moment on a
        // loaded machine; any other answer is checked at once
        await("no 503 among the answers, and the alert read on port 0").atMost(Duration.ofSeconds(60)).until(() -> {
            HttpResponse<String> first = get(ports.get(0), account, "/v1/usage.csv?cycle=" + CYCLE);
            HttpResponse<String> second = get(ports.get(1), account, "/v1/usage.csv?cycle=" + CYCLE);
            // the security alerts too: one instance answers, the other forwards to it (the alert is in the owner's
            // partition only, so a non-owner answering from its own would list none)
            HttpResponse<String> alertsHere = get(ports.get(0), account, "/v1/security-alerts?cycle=" + CYCLE);
            HttpResponse<String> alertsThere = get(ports.get(1), account, "/v1/security-alerts?cycle=" + CYCLE);
            HttpResponse<String> missing = get(ports.get(1), account, "/v1/usage?cycle=" + CYCLE + "&credentialId=nope");
            if (Stream.of(first, second, alertsHere, alertsThere, missing).anyMatch(r -> r.statusCode() == 503)) {
                return false;
            }
            assertThat(alertsHere.statusCode()).as(alertsHere.body()).isEqualTo(200);
            if (!alertsHere.body().contains(stolenKeyId)) {
                return false;
            }
            assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
            assertThat(first.body()).isEqualTo(second.body()).contains("cred-0");
            assertThat(first.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
            assertThat(alertsThere.statusCode()).as(alertsThere.body()).isEqualTo(200);
            assertThat(alertsThere.body()).isEqualTo(alertsHere.body());
            assertThat(alertsThere.headers().firstValue("X-Keymeter-Answered-By"))
                    .isEqualTo(alertsHere.headers().firstValue("X-Keymeter-Answered-By")).isPresent();
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
            return true;
        });
    }

    /**
     * A forwarded call is answered only by the account's owner: elsewhere (the instances disagree during a
     * rebalance) it is a 503, never a report read from partitions that do not hold the account (a 200 with no usage).
     * A caller who adds the internal header to its own call is not taken as forwarded.
     */
    @Test
    void aForwardedCallReachingAnInstanceThatDoesNotOwnTheAccountIsA503() throws Exception {
        String account = new ArrayList<>(TestAccounts.ALL.keySet()).get(1);
        publish(new UsageDaily(account, "cred-forwarded", "routing", LocalDate.parse("2025-06-03"), 1, 7));
        String path = "/v1/usage?cycle=2025-06&credentialId=cred-forwarded";
        // in one attempt, repeated until the instances agree: one of them may still be joining the group
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
            int ownerPort = ownerPort(account, path, 7);
            int otherPort = ports.get(0) == ownerPort ? ports.get(1) : ports.get(0);

            HttpResponse<String> atOwner = forwardedGet(ownerPort, account, path);
            assertThat(atOwner.statusCode()).as(atOwner.body()).isEqualTo(200);
            assertThat(Json.mapper().readTree(atOwner.body()).path("services").path(0).path("units").asLong()).isEqualTo(7);
            HttpResponse<String> elsewhere = forwardedGet(otherPort, account, path);
            assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(503);
            assertThat(elsewhere.headers().firstValue("Retry-After")).isPresent();
            assertThat(elsewhere.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
            // the caller's own call with the marker is a caller's call: forwarded to the owner, not a 503
            HttpResponse<String> marked = get(otherPort, account, path, "X-Keymeter-Forwarded", "1");
            assertThat(marked.statusCode()).as(marked.body()).isEqualTo(200);
            assertThat(marked.headers().firstValue("X-Keymeter-Answered-By")).hasValue("localhost:" + ownerPort);
        });
    }

    /**
     * A forwarded call carries the parameters this instance read, encoded again: a raw {@code |} in the query (curl
     * sends it as it is) made building the owner's address throw, a 500 where the owner itself answered 404; and a
     * value holding {@code + & = |} reaches the owner as it was sent, with the caller's {@code Accept}.
     */
    @Test
    void theQueryReachesTheOwnerAsTheCallerMeantIt() throws Exception {
        String account = new ArrayList<>(TestAccounts.ALL.keySet()).get(2);
        String credentialId = "cred+&=x|y";
        publish(new UsageDaily(account, credentialId, "routing", LocalDate.parse("2025-07-04"), 1, 5));
        String path = "/v1/usage?cycle=2025-07&credentialId=cred%2B%26%3Dx%7Cy";
        // in one attempt, repeated until the instances agree: one of them may still be joining the group
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
            int ownerPort = ownerPort(account, path, 5);
            int otherPort = ports.get(0) == ownerPort ? ports.get(1) : ports.get(0);

            HttpResponse<String> forwarded = get(otherPort, account, path);
            assertThat(forwarded.statusCode()).as(forwarded.body()).isEqualTo(200);
            assertThat(forwarded.headers().firstValue("X-Keymeter-Answered-By")).hasValue("localhost:" + ownerPort);
            JsonNode report = Json.mapper().readTree(forwarded.body());
            assertThat(report.path("credentials").path(0).path("credentialId").asString()).isEqualTo(credentialId);
            assertThat(report.path("services").path(0).path("units").asLong()).isEqualTo(5);
            // and with the caller's Accept: forwarded without it, a report asked for as CSV only was a 200 in JSON
            for (int port : List.of(ownerPort, otherPort)) {
                HttpResponse<String> csvOnly = get(port, account, path, "Accept", "text/csv");
                assertThat(csvOnly.statusCode()).as(port == ownerPort ? "the owner" : "forwarded").isEqualTo(406);
            }

            for (int port : List.of(ownerPort, otherPort)) {
                String where = port == ownerPort ? "the owner" : "the other instance";
                assertThat(rawStatusLine(port, account, "/v1/usage?cycle=2025-07&credentialId=a|b")).as(where)
                        .contains(" 404 ");
                // a raw | in a path parameter, which Jetty lets through, made the owner's URI throw as well
                assertThat(rawStatusLine(port, account, "/v1/usage;a|b?cycle=2025-07&credentialId=a")).as(where)
                        .contains(" 404 ");
            }
        });
    }

    private static void publish(UsageDaily day) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, UsageDaily> producer = new KafkaProducer<>(config,
                Topics.USAGE_DAILY.keySerde().serializer(), Topics.USAGE_DAILY.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.USAGE_DAILY.name(), day.key(), day)).get();
        }
    }

    /** The port of the instance that answers {@code path} for the account; its report must show {@code units}. */
    private static int ownerPort(String account, String path, long units) throws Exception {
        HttpResponse<String> answer = get(ports.get(0), account, path);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(Json.mapper().readTree(answer.body()).path("services").path(0).path("units").asLong()).isEqualTo(units);
        String owner = answer.headers().firstValue("X-Keymeter-Answered-By").orElseThrow();
        return Integer.parseInt(owner.substring(owner.lastIndexOf(':') + 1));
    }

    /** A GET sent over a socket as written: Java's HTTP client refuses a {@code |} in a URI. */
    private static String rawStatusLine(int port, String account, String pathAndQuery) throws Exception {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Authorization: Bearer " + TestAccounts.token(account) + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
        }
    }

    /** A read as another instance forwards it: signed for the account, marked as forwarded. */
    private static HttpResponse<String> forwardedGet(int port, String account, String path) throws Exception {
        String signed = instances.get(0).getBean(ForwardedCalls.class)
                .authorizationFor(TestAccounts.token(account), URI.create(path)).orElseThrow();
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", signed).header("X-Keymeter-Forwarded", "1").GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(int port, String account, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Bearer " + TestAccounts.token(account)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
