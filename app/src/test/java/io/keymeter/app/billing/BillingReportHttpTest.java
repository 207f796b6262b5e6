package io.keymeter.app.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.billing.reports.LedgerStores;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Json;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Statement;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/**
 * The usage and billing API through the whole app. Usage and credential events are produced straight to the topics
 * (as metering and the credential store would) for account {@code oscorp} in a cycle long closed, March 2025, so
 * no other test's data can mix in; {@code tyrell} is the other tenant.
 */
@KeymeterIntegrationTest
class BillingReportHttpTest {

    private static final String ACCOUNT = "oscorp";
    private static final String OTHER = "tyrell";
    private static final String CYCLE = "2025-03";
    /** Quotes, a comma, a line break and characters beyond ASCII (the CSV is written as UTF-8 bytes). */
    private static final String WEST_NAME = "Acme, \"West\" – Zürich\nsecond line";

    @Autowired
    TestRestTemplate http;
    @Autowired
    LedgerStores stores;
    @Autowired
    @Qualifier("billingStreams")
    StreamsApp billing;

    private final String west = "cred-" + UUID.randomUUID();
    private final String mobile = "cred-" + UUID.randomUUID();

    @Test
    void aDefectInAReportIsNotTakenForALedgerStarting() {
        await().atMost(Duration.ofSeconds(60)).until(() -> billing.state() == KafkaStreams.State.RUNNING);
        // before, every IllegalStateException was a 503 "starting or rebalancing", retried for ever
        assertThatThrownBy(() -> stores.read(() -> {
            throw new IllegalStateException("Duplicate key cred-1");
        })).isInstanceOf(IllegalStateException.class).hasMessage("Duplicate key cred-1");
        assertThatThrownBy(() -> stores.read(() -> {
            throw new InvalidStateStoreException("restoring");
        })).isInstanceOf(ApiProblem.class);
    }

    @Test
    void reportDailyTimelineCsvAndStatementAgreeWithTheUsageSentAndStayWithTheAccount() throws Exception {
        Instant created = Instant.parse("2025-02-20T10:00:00Z");
        send(Topics.CREDENTIAL_EVENTS, west, new CredentialEvent.CredentialCreated(UUID.randomUUID().toString(), west,
                ACCOUNT, 1, created, WEST_NAME, List.of("premium:user:geocode:temporary"), List.of(), List.of()));
        send(Topics.CREDENTIAL_EVENTS, mobile, new CredentialEvent.CredentialCreated(UUID.randomUUID().toString(), mobile,
                ACCOUNT, 1, created, "Mobile app", List.of("premium:user:geocode:stored"), List.of(), List.of()));
        usage(west, "geocoding", "2025-03-01", 1, 10);
        usage(west, "geocoding", "2025-03-01", 3, 30); // latest totals of the day replace the earlier ones
        usage(west, "geocoding", "2025-03-31", 2, 20);
        usage(west, "routing", "2025-03-15", 1, 10);
        usage(mobile, "geocoding", "2025-03-15", 5, 50);
        usage(mobile, "geocoding-stored", "2025-03-20", 2, 250);
        send(Topics.REJECTIONS, "keyidkeyidkeyid1", new Rejection("r-" + UUID.randomUUID(), "keyidkeyidkeyid1", ACCOUNT,
                west, "geocoding", "find", 1, null, null, Instant.parse("2025-03-31T23:59:59.999Z"), RejectionReason.EXPIRED));
        send(Topics.CREDENTIAL_EVENTS, mobile, new CredentialEvent.CredentialDeleted(UUID.randomUUID().toString(), mobile,
                ACCOUNT, 2, Instant.parse("2025-04-02T00:00:00Z")));

        // March 2025 closed long ago: the ledger's wall-clock punctuator issues its final statement
        JsonNode report = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> json(get(ACCOUNT, "/v1/usage?cycle=" + CYCLE)),
                r -> r.path("cycle").path("status").asString().equals("closed")
                        && credential(r, west) != null && credential(r, west).path("rejectedRequests").asLong() == 1
                        && credential(r, mobile) != null && credential(r, mobile).path("services").size() == 2
                        && "1.00".equals(r.path("amountDue").asString()));

        assertThat(report.path("cycle").path("id").asString()).isEqualTo(CYCLE);
        assertThat(report.path("cycle").path("start").asString()).isEqualTo("2025-03-01T00:00:00Z");
        assertThat(report.path("cycle").path("end").asString()).isEqualTo("2025-04-01T00:00:00Z");
        assertThat(report.path("currency").asString()).isEqualTo("USD");
        assertThat(report.path("credentials").size()).isEqualTo(2);

        JsonNode westReport = credential(report, west);
        assertThat(westReport.path("name").asString()).isEqualTo(WEST_NAME);
        assertThat(service(westReport, "geocoding").path("requests").asLong()).isEqualTo(5);
        assertThat(service(westReport, "geocoding").path("units").asLong()).isEqualTo(50);
        assertThat(service(westReport, "geocoding").path("cost").asString()).isEqualTo("0.02"); // 0.025 half-even
        assertThat(service(westReport, "routing").path("units").asLong()).isEqualTo(10);
        assertThat(westReport.path("cost").asString()).isEqualTo("0.02");
        assertThat(westReport.path("rejectedByReason").properties()).as("the rejection's reason")
                .singleElement().satisfies(e -> {
                    assertThat(e.getKey()).isEqualTo("expired");
                    assertThat(e.getValue().asLong()).isEqualTo(1);
                });
        JsonNode mobileReport = credential(report, mobile);
        assertThat(mobileReport.path("rejectedByReason").isObject()).isTrue();
        assertThat(mobileReport.path("rejectedByReason").isEmpty()).as("no rejections: an empty object").isTrue();
        assertThat(mobileReport.path("name").asString()).as("a deleted credential keeps its name").isEqualTo("Mobile app");
        assertThat(service(mobileReport, "geocoding-stored").path("cost").asString()).isEqualTo("1.00");

        JsonNode geocoding = service(report, "geocoding");
        assertThat(geocoding.path("units").asLong()).isEqualTo(100);
        assertThat(geocoding.path("freeUnits").asLong()).as("free units once per account and service").isEqualTo(100);
        assertThat(geocoding.path("billableUnits").asLong()).isZero();
        assertThat(geocoding.path("pricePer1000").asString()).isEqualTo("0.50");
        assertThat(geocoding.path("amount").asString()).isEqualTo("0.00");
        assertThat(service(report, "geocoding-stored").path("amount").asString()).isEqualTo("1.00");

        // the daily timeline: every day of March, zeros included, summing to the report
        JsonNode days = json(get(ACCOUNT, "/v1/usage/daily?cycle=" + CYCLE)).path("days");
        assertThat(days.size()).isEqualTo(31);
        assertThat(days.get(0).path("date").asString()).isEqualTo("2025-03-01");
        assertThat(days.get(30).path("date").asString()).isEqualTo("2025-03-31");
        assertThat(day(days, "2025-03-15")).isEqualTo(List.of(6L, 60L));
        assertThat(day(days, "2025-03-02")).isEqualTo(List.of(0L, 0L));
        assertThat(sum(days, "units")).isEqualTo(sumOfReport(report, "units")).isEqualTo(360);
        assertThat(sum(days, "requests")).isEqualTo(sumOfReport(report, "requests")).isEqualTo(13);

        JsonNode westGeocoding = json(get(ACCOUNT, "/v1/usage/daily?cycle=" + CYCLE + "&credentialId=" + west
                + "&service=geocoding")).path("days");
        assertThat(westGeocoding.size()).isEqualTo(31);
        assertThat(day(westGeocoding, "2025-03-01")).isEqualTo(List.of(3L, 30L));
        assertThat(day(westGeocoding, "2025-03-31")).isEqualTo(List.of(2L, 20L));
        assertThat(sum(westGeocoding, "units")).isEqualTo(50);

        // the CSV: one row per day, credential and service, names escaped, agreeing with the report
        ResponseEntity<String> csv = get(ACCOUNT, "/v1/usage.csv?cycle=" + CYCLE);
        assertThat(csv.getStatusCode().value()).isEqualTo(200);
        assertThat(csv.getHeaders().getContentType().toString()).startsWith("text/csv").containsIgnoringCase("charset=UTF-8");
        assertThat(csv.getBody()).startsWith("date,credential_id,credential_name,service,requests,units,cost\r\n")
                .contains("\"Acme, \"\"West\"\" – Zürich\nsecond line\"");
        List<CSVRecord> rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(csv.getBody())).getRecords();
        assertThat(rows).hasSize(5);
        assertThat(rows).extracting(r -> r.get("date")).isSorted();
        assertThat(rows).filteredOn(r -> r.get("credential_id").equals(west))
                .allSatisfy(r -> assertThat(r.get("credential_name")).isEqualTo(WEST_NAME));
        for (String credentialId : List.of(west, mobile)) {
            JsonNode reported = credential(report, credentialId);
            for (int i = 0; i < reported.path("services").size(); i++) {
                JsonNode s = reported.path("services").get(i);
                long csvUnits = rows.stream().filter(r -> r.get("credential_id").equals(credentialId)
                        && r.get("service").equals(s.path("service").asString())).mapToLong(r -> Long.parseLong(r.get("units"))).sum();
                assertThat(csvUnits).as(credentialId + " " + s.path("service").asString()).isEqualTo(s.path("units").asLong());
                // rows are exact: their sum rounds to the report's cost (rounded each, 30 + 20 units at 0.50 summed
                // to 0.03 against the report's 0.02)
                java.math.BigDecimal csvCost = rows.stream().filter(r -> r.get("credential_id").equals(credentialId)
                        && r.get("service").equals(s.path("service").asString()))
                        .map(r -> new java.math.BigDecimal(r.get("cost"))).reduce(java.math.BigDecimal.ZERO, java.math.BigDecimal::add);
                assertThat(csvCost.setScale(2, java.math.RoundingMode.HALF_EVEN)).as(credentialId + " " + s.path("service").asString())
                        .isEqualTo(new java.math.BigDecimal(s.path("cost").asString()));
            }
        }
        assertThat(rows.stream().mapToLong(r -> Long.parseLong(r.get("requests"))).sum()).isEqualTo(13);
        assertThat(rows).filteredOn(r -> r.get("service").equals("geocoding-stored")).singleElement()
                .satisfies(r -> assertThat(r.get("cost")).isEqualTo("1.00"));
        List<CSVRecord> westOnly = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(get(ACCOUNT, "/v1/usage.csv?cycle=" + CYCLE + "&credentialId=" + west).getBody()))
                .getRecords();
        assertThat(westOnly).hasSize(3).allSatisfy(r -> assertThat(r.get("credential_id")).isEqualTo(west));

        // the statements: a final one, then an adjustment for any usage the ledger saw after it (the cycle closed
        // long ago, so its punctuator may settle between two of the records sent above); together they bill the
        // report's amount, in the API and on the topic, each once
        JsonNode statements = await().atMost(Duration.ofSeconds(30))
                .until(() -> json(get(ACCOUNT, "/v1/statements?cycle=" + CYCLE)).path("statements"),
                        s -> amountDue(s).compareTo(new BigDecimal(report.path("amountDue").asString())) == 0);
        assertThat(statements.get(0).path("statementId").asString()).isEqualTo(ACCOUNT + "-" + CYCLE + "-final");
        assertThat(statements.get(0).path("kind").asString()).isEqualTo("final");
        Map<String, BigDecimal> issued = new HashMap<>();
        for (int i = 0; i < statements.size(); i++) {
            JsonNode s = statements.get(i);
            assertThat(s.path("kind").asString()).isEqualTo(i == 0 ? "final" : "adjustment");
            issued.put(s.path("statementId").asString(), new BigDecimal(s.path("amountDue").asString()));
        }
        assertThat(issued).hasSize(statements.size());
        List<Statement> published = await().atMost(Duration.ofSeconds(30))
                .until(() -> TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.BILLING_STATEMENTS).stream()
                        .map(ConsumerRecord::value).filter(s -> s.accountId().equals(ACCOUNT) && s.cycle().equals(CYCLE))
                        .toList(), p -> p.size() >= issued.size());
        assertThat(published).extracting(Statement::statementId).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(issued.keySet());
        assertThat(published).allSatisfy(s -> assertThat(s.amountDue()).isEqualByComparingTo(issued.get(s.statementId())));

        // another account sees none of it: answered (200, the reports' shape), without this account's data
        JsonNode others = json(ok(get(OTHER, "/v1/usage?cycle=" + CYCLE)));
        assertThat(others.path("cycle").path("id").asString()).isEqualTo(CYCLE);
        assertThat(others.path("credentials").isArray()).isTrue();
        assertThat(others.toString()).doesNotContain(west).doesNotContain(mobile).doesNotContain("Acme");
        assertThat(ok(get(OTHER, "/v1/usage.csv?cycle=" + CYCLE)).getBody())
                .startsWith("date,credential_id,credential_name,service,requests,units,cost")
                .doesNotContain(west).doesNotContain(mobile);
        JsonNode otherStatements = json(ok(get(OTHER, "/v1/statements?cycle=" + CYCLE)));
        assertThat(otherStatements.path("statements").isArray()).isTrue();
        assertThat(otherStatements.toString()).doesNotContain(ACCOUNT);
        JsonNode otherDays = json(ok(get(OTHER, "/v1/usage/daily?cycle=" + CYCLE))).path("days");
        assertThat(otherDays.size()).isEqualTo(31);
        assertThat(sum(otherDays, "units")).isZero();
        assertNotFound(get(OTHER, "/v1/usage?cycle=" + CYCLE + "&credentialId=" + west));
        assertNotFound(get(OTHER, "/v1/usage/daily?cycle=" + CYCLE + "&credentialId=" + west));
        assertNotFound(get(OTHER, "/v1/usage.csv?cycle=" + CYCLE + "&credentialId=" + west));
        // word for word what a credential that never existed gets (ids not of our shape are not echoed)
        assertThat(json(get(OTHER, "/v1/usage?cycle=" + CYCLE + "&credentialId=" + west)))
                .isEqualTo(json(get(OTHER, "/v1/usage?cycle=" + CYCLE + "&credentialId=cred-" + UUID.randomUUID())));
    }

    /**
     * Keys used after they died, from {@code keymeter.security-alerts} (as metering writes them): the latest alert of
     * each key and run of uses in the cycle of its last use, most recent first, named; narrowed to one credential; and
     * another account's alerts and credentials are not there (404 for the credential, as if it did not exist).
     */
    @Test
    void securityAlertsListTheAccountsKeysUsedAfterTheyDiedAndNoOneElses() throws Exception {
        send(Topics.CREDENTIAL_EVENTS, west, new CredentialEvent.CredentialCreated(UUID.randomUUID().toString(), west,
                ACCOUNT, 1, Instant.parse("2025-02-20T10:00:00Z"), "West", List.of("premium:user:basemaps"), List.of(),
                List.of()));
        String stolen = "stolenKey" + UUID.randomUUID().toString().substring(0, 7);
        String old = "expiredKy" + UUID.randomUUID().toString().substring(0, 7);
        String theirs = "cred-" + UUID.randomUUID();
        send(Topics.SECURITY_ALERTS, west, alert(ACCOUNT, west, stolen, "invalidated", 1, "2025-03-02T10:00:00Z",
                "2025-03-02T10:00:00Z"));
        send(Topics.SECURITY_ALERTS, west, alert(ACCOUNT, west, stolen, "invalidated", 120, "2025-03-02T10:00:00Z",
                "2025-03-09T18:30:00Z"));
        send(Topics.SECURITY_ALERTS, mobile, alert(ACCOUNT, mobile, old, "expired", 3, "2025-03-05T08:00:00Z",
                "2025-03-05T08:20:00Z"));
        send(Topics.SECURITY_ALERTS, theirs, alert(OTHER, theirs, "theirKey" + UUID.randomUUID().toString().substring(0, 8),
                "expired", 9, "2025-03-06T08:00:00Z", "2025-03-06T08:00:00Z"));

        JsonNode alerts = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> json(get(ACCOUNT, "/v1/security-alerts?cycle=" + CYCLE)).path("alerts"),
                        a -> ours(a, stolen, old).size() == 2 && ours(a, stolen, old).get(0).path("count").asLong() == 120);
        List<JsonNode> mine = ours(alerts, stolen, old);
        assertThat(mine.get(0).path("credentialId").asString()).isEqualTo(west);
        assertThat(mine.get(0).path("name").asString()).isEqualTo("West");
        assertThat(mine.get(0).path("reason").asString()).isEqualTo("invalidated");
        assertThat(mine.get(0).path("firstSeen").asString()).isEqualTo("2025-03-02T10:00:00Z");
        assertThat(mine.get(0).path("lastSeen").asString()).isEqualTo("2025-03-09T18:30:00Z");
        assertThat(mine.get(1).path("keyId").asString()).isEqualTo(old);
        assertThat(mine.get(1).path("name").isNull()).as("a credential the ledger has no name for").isTrue();

        JsonNode narrowed = json(get(ACCOUNT, "/v1/security-alerts?cycle=" + CYCLE + "&credentialId=" + west));
        assertThat(narrowed.path("alerts")).allSatisfy(a -> assertThat(a.path("credentialId").asString()).isEqualTo(west));
        assertThat(ours(narrowed.path("alerts"), stolen, old)).hasSize(1);
        JsonNode february = json(ok(get(ACCOUNT, "/v1/security-alerts?cycle=2025-02"))).path("alerts");
        assertThat(february.isArray()).isTrue();
        assertThat(february.toString()).doesNotContain(stolen).doesNotContain(old);
        assertNotFound(get(OTHER, "/v1/security-alerts?cycle=" + CYCLE + "&credentialId=" + west));
        // once the other account's alert is in, neither list holds the other's
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> json(get(OTHER,
                "/v1/security-alerts?cycle=" + CYCLE)).path("alerts").toString().contains(theirs));
        assertThat(json(ok(get(OTHER, "/v1/security-alerts?cycle=" + CYCLE))).path("alerts").toString())
                .doesNotContain(stolen).doesNotContain(old);
        assertThat(json(ok(get(ACCOUNT, "/v1/security-alerts?cycle=" + CYCLE))).path("alerts").toString())
                .contains(stolen).doesNotContain(theirs);
    }

    private static SecurityAlert alert(String account, String credential, String keyId, String reason, long count,
                                       String firstSeen, String lastSeen) {
        return new SecurityAlert("invalid-key-in-use", account, credential, keyId, reason, count,
                Instant.parse(firstSeen), Instant.parse(lastSeen));
    }

    /** This test's alerts, in the order answered. */
    private static List<JsonNode> ours(JsonNode alerts, String... keyIds) {
        List<String> wanted = List.of(keyIds);
        List<JsonNode> found = new java.util.ArrayList<>();
        alerts.forEach(a -> {
            if (wanted.contains(a.path("keyId").asString())) {
                found.add(a);
            }
        });
        return found;
    }

    @Test
    void badInputAnswersProblemJsonNamingTheField() {
        for (String path : List.of("/v1/usage", "/v1/usage/daily", "/v1/usage.csv", "/v1/statements",
                "/v1/security-alerts")) {
            ResponseEntity<String> response = get(ACCOUNT, path + "?cycle=2026-13");
            assertThat(response.getStatusCode().value()).as(path + " " + response.getBody()).isEqualTo(400);
            assertThat(response.getHeaders().getContentType().toString()).as(path).startsWith("application/problem+json");
            assertThat(json(response).path("errors").path(0).path("field").asString()).as(path + " " + response.getBody())
                    .isEqualTo("cycle");
        }
        assertNotFound(get(ACCOUNT, "/v1/usage?credentialId=cred-does-not-exist"));
        assertNotFound(get(ACCOUNT, "/v1/usage/daily?credentialId=cred-does-not-exist"));
        assertNotFound(get(ACCOUNT, "/v1/usage.csv?credentialId=cred-does-not-exist"));
        assertNotFound(get(ACCOUNT, "/v1/security-alerts?credentialId=cred-does-not-exist"));

        ResponseEntity<String> service = get(ACCOUNT, "/v1/usage/daily?service=teleport");
        assertThat(service.getStatusCode().value()).isEqualTo(400);
        assertThat(json(service).path("errors").path(0).path("field").asString()).as(service.getBody())
                .isEqualTo("service");

        // a misspelt parameter answered another cycle's report; a repeated one was joined with a comma
        for (String query : List.of("cylce=2026-10", "credentialID=x", "cycle=2026-11&cycle=2026-11")) {
            for (String path : List.of("/v1/usage", "/v1/usage/daily", "/v1/usage.csv", "/v1/statements",
                    "/v1/security-alerts")) {
                ResponseEntity<String> response = get(ACCOUNT, path + "?" + query);
                assertThat(response.getStatusCode().value()).as(path + "?" + query + " " + response.getBody())
                        .isEqualTo(400);
                assertThat(json(response).path("errors").path(0).path("field").asString())
                        .isEqualTo(query.substring(0, query.indexOf('=')));
            }
        }

        // a value with spaces or control characters around it was trimmed and answered: only an empty one is absent
        for (String cycle : List.of("2026-11%20", "%092026-11", "2026-11%0A", "2026-11%00", "+2026-11", "%20")) {
            for (String path : List.of("/v1/usage", "/v1/usage/daily", "/v1/usage.csv", "/v1/statements",
                    "/v1/security-alerts")) {
                ResponseEntity<String> response = getRaw(ACCOUNT, path + "?cycle=" + cycle);
                assertThat(response.getStatusCode().value()).as(path + "?cycle=" + cycle + " " + response.getBody())
                        .isEqualTo(400);
            }
        }
        assertThat(getRaw(ACCOUNT, "/v1/usage/daily?service=basemaps%00").getStatusCode().value()).isEqualTo(400);
        assertThat(getRaw(ACCOUNT, "/v1/usage?cycle=").getStatusCode().value()).as("empty: absent").isEqualTo(200);

        ResponseEntity<String> anonymous = http.getForEntity("/v1/usage", String.class);
        assertThat(anonymous.getStatusCode().value()).isEqualTo(401);
    }

    @Test
    void theCurrentCycleIsTheDefaultAndItsTimelineEndsToday() {
        // today before and after the calls: equal, except when the test runs across midnight UTC
        LocalDate before = LocalDate.now(java.time.ZoneOffset.UTC);
        JsonNode report = json(get(OTHER, "/v1/usage"));
        JsonNode days = json(get(OTHER, "/v1/usage/daily")).path("days");
        LocalDate after = LocalDate.now(java.time.ZoneOffset.UTC);
        assertThat(report.path("cycle").path("id").asString())
                .isIn(before.toString().substring(0, 7), after.toString().substring(0, 7));
        assertThat(report.path("cycle").path("status").asString()).isEqualTo("open");
        assertThat(days.size()).isIn(before.getDayOfMonth(), after.getDayOfMonth());
        assertThat(days.get(days.size() - 1).path("date").asString()).isIn(before.toString(), after.toString());
    }

    /**
     * Metering takes requests stamped up to max-future-skew ahead of its clock: near midnight UTC a day after today
     * has usage in the report and the CSV, and the timeline, which stopped at today, left it out.
     */
    @Test
    void aDayStampedAheadOfTodayIsOnTheTimelineAsInTheReport() throws Exception {
        String ahead = "cred-" + UUID.randomUUID();
        LocalDate tomorrow = LocalDate.now(java.time.ZoneOffset.UTC).plusDays(1);
        String path = "/v1/usage/daily?cycle=" + tomorrow.toString().substring(0, 7) + "&credentialId=" + ahead;
        usage(ahead, "geocoding", tomorrow.toString(), 2, 20);

        JsonNode last = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> {
                    JsonNode days = json(ok(get(ACCOUNT, path))).path("days");
                    return days.get(days.size() - 1);
                }, day -> day.path("date").asString().equals(tomorrow.toString()));
        assertThat(last.path("requests").asLong()).isEqualTo(2);
        assertThat(last.path("units").asLong()).isEqualTo(20);
    }

    /**
     * Totals beyond a long (usage written to keymeter.usage-daily directly; through ingest, 4.3 billion requests a
     * month at the most units one may carry): the report showed -8446744073709551616 units and a negative cost.
     */
    @Test
    void unitsBeyondALongAreSummedExactly() throws Exception {
        String huge = "cred-" + UUID.randomUUID();
        usage(huge, "geocoding", "2031-03-10", 1, 5_000_000_000_000_000_000L);
        usage(huge, "geocoding", "2031-03-11", 1, 5_000_000_000_000_000_000L);

        JsonNode service = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> json(ok(get(ACCOUNT,
                "/v1/usage?cycle=2031-03&credentialId=" + huge))).path("credentials").get(0).path("services").get(0),
                s -> s.path("requests").asLong() == 2);
        assertThat(service.path("units").bigIntegerValue()).isEqualTo(new java.math.BigInteger("10000000000000000000"));
        assertThat(new BigDecimal(service.path("cost").asString())).isEqualByComparingTo("5000000000000000.00");
        JsonNode days = json(ok(get(ACCOUNT, "/v1/usage/daily?cycle=2031-03&credentialId=" + huge))).path("days");
        assertThat(days.get(9).path("units").bigIntegerValue()).isEqualTo(new java.math.BigInteger("5000000000000000000"));
    }

    private static BigDecimal amountDue(JsonNode statements) {
        BigDecimal sum = BigDecimal.ZERO;
        for (JsonNode statement : statements) {
            sum = sum.add(new BigDecimal(statement.path("amountDue").asString()));
        }
        return sum;
    }

    private void usage(String credentialId, String service, String date, long requests, long units) throws Exception {
        UsageDaily day = new UsageDaily(ACCOUNT, credentialId, service, LocalDate.parse(date), requests, units);
        send(Topics.USAGE_DAILY, day.key(), day);
    }

    private static <V> void send(Topic<String, V> topic, String key, V value) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(config, topic.keySerde().serializer(),
                topic.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(topic.name(), key, value)).get();
        }
    }

    private ResponseEntity<String> get(String account, String path) {
        HttpHeaders headers = new HttpHeaders();
        headers.setBearerAuth(TestAccounts.token(account));
        return http.exchange(path, HttpMethod.GET, new HttpEntity<>(headers), String.class);
    }

    /** {@code path} sent as written, its percent-escapes not encoded again. */
    private ResponseEntity<String> getRaw(String account, String path) {
        HttpHeaders headers = new HttpHeaders();
        headers.setBearerAuth(TestAccounts.token(account));
        return http.exchange(java.net.URI.create(http.getRootUri() + path), HttpMethod.GET, new HttpEntity<>(headers),
                String.class);
    }

    private static JsonNode json(ResponseEntity<String> response) {
        return Json.mapper().readTree(response.getBody());
    }

    private static ResponseEntity<String> ok(ResponseEntity<String> response) {
        assertThat(response.getStatusCode().value()).as(response.getBody()).isEqualTo(200);
        return response;
    }

    private static void assertNotFound(ResponseEntity<String> response) {
        assertThat(response.getStatusCode().value()).isEqualTo(404);
        assertThat(response.getHeaders().getContentType().toString()).startsWith("application/problem+json");
    }

    private static JsonNode credential(JsonNode report, String credentialId) {
        for (JsonNode c : report.path("credentials")) {
            if (c.path("credentialId").asString().equals(credentialId)) {
                return c;
            }
        }
        return null;
    }

    private static JsonNode service(JsonNode node, String service) {
        for (JsonNode s : node.path("services")) {
            if (s.path("service").asString().equals(service)) {
                return s;
            }
        }
        throw new AssertionError("no service " + service + " in " + node);
    }

    private static List<Long> day(JsonNode days, String date) {
        for (JsonNode d : days) {
            if (d.path("date").asString().equals(date)) {
                return List.of(d.path("requests").asLong(), d.path("units").asLong());
            }
        }
        throw new AssertionError("no day " + date);
    }

    private static long sum(JsonNode days, String field) {
        long total = 0;
        for (JsonNode d : days) {
            total += d.path(field).asLong();
        }
        return total;
    }

    private static long sumOfReport(JsonNode report, String field) {
        long total = 0;
        for (JsonNode c : report.path("credentials")) {
            for (JsonNode s : c.path("services")) {
                total += s.path(field).asLong();
            }
        }
        return total;
    }
}
