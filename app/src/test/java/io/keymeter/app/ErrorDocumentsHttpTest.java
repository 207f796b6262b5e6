package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpTester;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.web.filter.FormContentFilter;
import tools.jackson.databind.JsonNode;

/**
 * Errors that Spring MVC or Jetty raise themselves, not our controllers, are problem documents of our own types too:
 * the same {@code type} and {@code title} as our problems of that status, never an HTML page, never a 500.
 * Sent over a raw socket, so that the request line is exactly as written (HTTP clients refuse or mend a bad URI).
 */
@KeymeterIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class ErrorDocumentsHttpTest {

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0} {1} -> {3}")
    @CsvSource(delimiter = '|', value = {
            // Spring MVC: no such call, a method the call lacks, an answer type it cannot give, a body type it cannot read
            "GET    | /v1/no-such-call                   |                              | 404 | not-found",
            "PATCH  | /v1/credentials                    |                              | 405 | method-not-allowed",
            "GET    | /v1/credentials                    | Accept: text/csv             | 406 | not-acceptable",
            // YAML: Kafka's broker brings Jackson 2's YAML module, and Spring wrote YAML with it (a 500 for a time)
            "GET    | /v1/credentials                    | Accept: application/yaml     | 406 | not-acceptable",
            "GET    | /v1/usage/daily                    | Accept: application/yaml, text/csv;q=0.5 | 406 | not-acceptable",
            "POST   | /v1/credentials                    | Content-Type: application/xml | 415 | unsupported-media-type",
            // TRACE: the servlet default echoed the request back (cross-site tracing), for the console's page too;
            // TRACK, its Microsoft twin, is Spring's 405 already
            "TRACE  | /v1/credentials                    |                              | 405 | method-not-allowed",
            "TRACK  | /v1/credentials                    |                              | 405 | method-not-allowed",
            "TRACE  | /                                  |                              | 405 | method-not-allowed",
            // the console's page takes GET only: other methods went to Spring Boot's error page, JSON of its own
            // shape or, asked for HTML, the "Whitelabel Error Page"
            "POST   | /                                  |                              | 405 | method-not-allowed",
            "PUT    | /?x=1                              | Accept: text/html            | 405 | method-not-allowed",
            "DELETE | /                                  | Accept: text/html,*/*;q=0.8  | 405 | method-not-allowed",
            // a raw | in a path parameter, which Jetty lets through: Spring MVC set a problem's instance with
            // URI.create of the raw path, which threw, so every problem there was a 500
            "GET    | '/v1/usage;a|b?cycle=bad'          |                              | 400 | invalid-request",
            "GET    | '/v1/nope;a|b'                     |                              | 404 | not-found",
            // the servlet's error path asked for directly
            "GET    | /error                             | Accept: text/html            | 404 | not-found",
            // Jetty, while a controller reads the query string: a broken percent escape was a 500
            "GET    | /v1/usage?cycle=%zz                |                              | 400 | bad-request",
            // Jetty, before any filter runs: a path it cannot decode or finds ambiguous
            "GET    | /v1/credentials/%zz                |                              | 400 | bad-request",
            "GET    | /v1/credentials/..;/x              |                              | 400 | bad-request",
    })
    void isAProblemDocumentOfOurType(String method, String target, String header, int status, String type)
            throws IOException {
        HttpTester.Response answer = send(method + " " + target + " HTTP/1.1\r\n"
                + "Authorization: Bearer " + TestAccounts.token("acme") + "\r\n"
                + (header == null ? "" : header + "\r\n") + "Content-Length: 2\r\n", "{}");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(status);
        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).as(answer.getContent()).startsWith("application/problem+json");
        JsonNode problem = Json.mapper().readTree(answer.getContent());
        assertThat(problem.get("type").asString()).isEqualTo("urn:keymeter:problem:" + type);
        assertThat(problem.get("title").asString()).isEqualTo(titleOf(type));
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("detail").asString()).isNotBlank().doesNotContain("Exception");
        assertThat(answer.getContent()).doesNotContain("HTTP/1.1"); // nothing of the request echoed after it
        if (status == 405) {
            assertThat(answer.get(HttpHeader.ALLOW)).isNotBlank().doesNotContain("TRACE");
        }
    }

    /**
     * Spring negotiated the answer's type after the controller had run: the change was made, then answered 406 (a
     * generated key's secret lost with the answer). Refused before now, nothing changed.
     */
    @Test
    void aChangeWhoseAnswerTheCallerDoesNotAcceptIsRefusedBeforeItIsMade() throws IOException {
        String name = "accept-" + java.util.UUID.randomUUID();
        String body = "{\"name\":\"" + name + "\",\"privileges\":[\"premium:user:basemaps\"]}";
        for (String accept : List.of("text/csv", "application/json; charset=iso-8859-1", "application/json;q=0",
                "application/xml", "application/json; charset=UTF-16", "application/yaml")) {
            // every spelling of the path Spring routes to the controller: the guard looked at the raw URI only, and
            // /v1;x/credentials made the credential, then answered Spring's 406 (a generated key's secret lost)
            for (String path : List.of("/v1/credentials", "/v1;x/credentials", "/%76%31/credentials")) {
                HttpTester.Response answer = send("POST " + path + " HTTP/1.1\r\nAuthorization: Bearer "
                        + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nAccept: " + accept
                        + "\r\nContent-Length: " + body.length() + "\r\n", body);
                assertThat(answer.getStatus()).as(path + ", " + accept + ": " + answer.getContent()).isEqualTo(406);
                assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString())
                        .as(path + ", " + accept).contains("nothing was done");
            }
        }
        HttpTester.Response list = send("GET /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\n", "");
        assertThat(list.getStatus()).isEqualTo(200);
        assertThat(list.getContent()).as("no credential made").doesNotContain(name);

        HttpTester.Response accepted = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nAccept: text/csv, */*;q=0.1"
                + "\r\nContent-Length: " + body.length() + "\r\n", body);
        assertThat(accepted.getStatus()).as(accepted.getContent()).isEqualTo(201);
    }

    /**
     * An Accept that prefers a format Keymeter does not write, JSON allowed too, is answered JSON: YAML was chosen
     * after the change was made, and a Jackson 2 writer that cannot write a time answered 500 (the credential made,
     * a generated key's secret lost).
     */
    @Test
    void aChangeAcceptingJsonAmongOtherFormatsIsAnsweredJson() throws IOException {
        String body = "{\"name\":\"yaml-" + java.util.UUID.randomUUID() + "\",\"privileges\":[\"premium:user:basemaps\"]}";
        for (String accept : List.of("application/yaml, application/json", "application/json;q=0.5, application/yaml",
                "application/json; charset=UTF-16LE")) {
            HttpTester.Response answer = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                    + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nAccept: " + accept
                    + "\r\nContent-Length: " + body.length() + "\r\n", body);
            assertThat(answer.getStatus()).as(accept + ": " + answer.getContent()).isEqualTo(201);
            assertThat(answer.get(HttpHeader.CONTENT_TYPE)).as(accept).startsWith("application/json");
            assertThat(Json.mapper().readTree(answer.getContent()).get("createdAt").asString()).as(accept).isNotBlank();
        }
    }

    /**
     * An answer that is not a problem is labelled {@code application/json} whatever {@code +json} type the caller
     * also accepts: Spring's JSON writer wrote it as the first one accepted, so a client asking for
     * {@code application/problem+json, application/json} got its credentials labelled a problem document.
     */
    @ParameterizedTest(name = "{0} {1}, Accept: {2}")
    @CsvSource(delimiter = '|', value = {
            "GET  | /v1/credentials | application/problem+json, application/json",
            "GET  | /v1/privileges  | application/problem+json",
            "GET  | /v1/credentials | application/vnd.example+json",
            "POST | /v1/credentials | application/problem+json, application/json",
    })
    void anAnswerThatIsNotAProblemIsLabelledJson(String method, String target, String accept) throws IOException {
        String body = "POST".equals(method)
                ? "{\"name\":\"label-" + java.util.UUID.randomUUID() + "\",\"privileges\":[\"premium:user:basemaps\"]}"
                : "";
        HttpTester.Response answer = send(method + " " + target + " HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nAccept: " + accept
                + "\r\nContent-Length: " + body.length() + "\r\n", body);

        assertThat(answer.getStatus()).as(answer.getContent()).isBetween(200, 201);
        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).as(answer.getContent()).startsWith("application/json");
        assertThat(Json.mapper().readTree(answer.getContent()).has("status")).isFalse(); // not a problem document
    }

    /** The actuator's own types are its clients' to negotiate: only the API's answers are relabelled. */
    @Test
    void theActuatorKeepsItsOwnType() throws IOException {
        HttpTester.Response answer = send("GET /actuator/health HTTP/1.1\r\nAccept: "
                + "application/vnd.spring-boot.actuator.v3+json\r\n", "");

        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).startsWith("application/vnd.spring-boot.actuator.v3+json");
    }

    /**
     * A JSON body is one object, each field once, times in RFC 3339: a field given twice was resolved to its last
     * value ({@code "slot":1,…,"slot":2} made a key in slot 2), {@code []} was "not valid JSON", and
     * {@code T24:00:00Z} was taken as the next day.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{\"name\":\"a\",\"privileges\":[\"premium:user:basemaps\"],\"name\":\"b\"} | name: appears more than once",
            "[]                                                                  | The body must be a JSON object.",
            "null                                                                | The body must be a JSON object.",
            "{\"name\":\"a\\u0000b\",\"privileges\":[\"premium:user:basemaps\"]} | name: must not contain control characters",
    })
    void aBodyThatIsNotOneObjectWithEachFieldOnceIsRefusedSayingWhy(String body, String detail) throws IOException {
        HttpTester.Response answer = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n", body);
        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString()).startsWith(detail);
    }

    /**
     * A field of the wrong JSON type is told what it takes, in ingest's words for a request line: each "has an
     * invalid value" left the caller to guess, and verify's {@code "apiKey":5} read so where ingest said "must be a
     * string".
     */
    @ParameterizedTest(name = "{2}")
    @CsvSource(delimiter = '|', value = {
            "/v1/verify             | gateway | {\"apiKey\":5,\"service\":\"basemaps\"}       | apiKey: must be a string",
            "/v1/credentials        | acme    | {\"name\":{},\"privileges\":[]}               | name: must be a string",
            "/v1/credentials        | acme    | {\"name\":\"a\",\"privileges\":\"basemaps\"} | privileges: must be an array",
            "/v1/credentials        | acme    | {\"name\":\"a\",\"privileges\":[true]}      | privileges[0]: must be a string",
            "/v1/credentials/x/keys | acme    | {\"slot\":\"2\"}                              | slot: must be an integer",
            // valid JSON: it was "The body is not valid JSON."
            "/v1/credentials/x/keys | acme    | {\"slot\":2147483648}                       | slot: must be an integer from -2147483648 to 2147483647",
            "/v1/credentials/x/keys | acme    | {\"slot\":-99999999999999999999}            | slot: must be an integer from -2147483648 to 2147483647",
            "/v1/credentials/x/keys | acme    | {\"expiresAt\":\"next tuesday\"}              | expiresAt: must be an RFC 3339 date-time such as ",
            "/v1/credentials/x/keys | acme    | {\"expiresAt\":1800000000}                    | expiresAt: must be an RFC 3339 date-time such as ",
    })
    void aFieldOfTheWrongTypeIsToldWhatItTakes(String path, String caller, String body, String detail)
            throws IOException {
        String token = "gateway".equals(caller) ? TestAccounts.GATEWAY_TOKEN : TestAccounts.token(caller);
        HttpTester.Response answer = send("POST " + path + " HTTP/1.1\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n", body);

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        JsonNode problem = Json.mapper().readTree(answer.getContent());
        assertThat(problem.get("detail").asString()).startsWith(detail);
        JsonNode error = problem.get("errors").get(0);
        assertThat(error.get("field").asString() + ": " + error.get("message").asString()).startsWith(detail);
    }

    /**
     * Authorization given twice was answered by the first: another tenant's token placed first read its data, behind
     * a proxy that checks or rewrites the last one.
     */
    @Test
    void authorizationGivenTwiceIsRefused() throws IOException {
        HttpTester.Response answer = send("GET /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("globex") + "\r\nAuthorization: Bearer " + TestAccounts.token("acme") + "\r\n", "");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString())
                .isEqualTo("Authorization is given more than once; send it once.");
    }

    /** Each unknown path or method was a WARN line of the caller's choosing: anyone could fill the log for free. */
    @Test
    void aCallersUnknownPathOrMethodIsAnsweredNotLogged(CapturedOutput output) throws IOException {
        assertThat(send("GET /no-such-page-to-log HTTP/1.1\r\n", "").getStatus()).isEqualTo(404);
        assertThat(send("PATCH /v1/credentials HTTP/1.1\r\nAuthorization: Bearer " + TestAccounts.token("acme")
                + "\r\nContent-Length: 0\r\n", "").getStatus()).isEqualTo(405);
        // the console's page, a view controller: its 405 was resolved (and logged) elsewhere
        assertThat(send("DELETE / HTTP/1.1\r\n", "").getStatus()).isEqualTo(405);

        assertThat(output.getOut() + output.getErr()).doesNotContain("no-such-page-to-log")
                .doesNotContain("Request method 'PATCH' is not supported")
                .doesNotContain("Request method 'DELETE' is not supported");
    }

    /** Only the API's and the console's answers said their type was not to be sniffed; the actuator's did not. */
    @Test
    void everyAnswerForbidsSniffingItsType() throws IOException {
        for (String target : new String[] {"/actuator/health", "/actuator/prometheus", "/no-such-page", "/v1/privileges"}) {
            HttpTester.Response answer = send("GET " + target + " HTTP/1.1\r\n", "");
            assertThat(answer.get("X-Content-Type-Options")).as(target).isEqualTo("nosniff");
        }
        // answered before the filters that say it (a docs probe): TRACE, and what Jetty refuses itself
        for (String call : new String[] {"TRACE /v1/privileges", "TRACE /actuator/health", "GET /v1/%zz",
                "GET /v1/privileges/..%2f..%2factuator"}) {
            HttpTester.Response answer = send(call + " HTTP/1.1\r\n", "");
            assertThat(answer.getStatus()).as(call).isIn(400, 405);
            assertThat(answer.get("X-Content-Type-Options")).as(call).isEqualTo("nosniff");
            assertThat(answer.get(HttpHeader.CACHE_CONTROL)).as(call).isEqualTo("no-store");
        }
        HttpTester.Response tooLarge = send("GET /v1/privileges HTTP/1.1\r\nX-Big: " + "x".repeat(20_000) + "\r\n", "");
        assertThat(tooLarge.getStatus()).isEqualTo(431);
        assertThat(tooLarge.get("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    /** Jetty's refusal of a form body it parsed for Spring said the URL was not valid. */
    @Test
    void aBrokenFormBodyIsNotCalledABadUrl() throws IOException {
        HttpTester.Response answer = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 3\r\n", "%zz");
        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).startsWith("application/problem+json");
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString()).doesNotContain("URL").contains("form content");
    }

    @Test
    void aCallerWithoutATokenIsAnswered401WhateverItsContentType() throws IOException {
        for (String type : new String[] {"*/*", "application/xml", "application/json; charset=no-such"}) {
            HttpTester.Response answer = send("POST /v1/credentials HTTP/1.1\r\nContent-Type: " + type
                    + "\r\nContent-Length: 2\r\n", "{}");
            assertThat(answer.getStatus()).as(type + ": " + answer.getContent()).isEqualTo(401);
        }
    }

    /**
     * A batch without a Content-Type is told one is required and which it may be (Spring's detail read "Content-Type
     * 'null' is not supported."); one refused by the filter in front of Spring MVC names the call in {@code instance}
     * like every other problem (it had none).
     */
    @Test
    void a415SaysWhatTheCallTakesAndWhichCallItWas() throws IOException {
        HttpTester.Response none = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Length: 2\r\n", "{}");
        assertThat(none.getStatus()).as(none.getContent()).isEqualTo(415);
        JsonNode problem = Json.mapper().readTree(none.getContent());
        assertThat(problem.get("detail").asString()).startsWith("A Content-Type is required; this call takes ")
                .contains("application/x-ndjson").doesNotContain("null");
        assertThat(problem.get("instance").asString()).isEqualTo("/v1/requests");

        // a JSON body without a Content-Type: Spring named application/octet-stream, which the caller never sent
        HttpTester.Response management = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Length: 2\r\n", "{}");
        assertThat(management.getStatus()).as(management.getContent()).isEqualTo(415);
        assertThat(Json.mapper().readTree(management.getContent()).get("detail").asString())
                .startsWith("A Content-Type is required; this call takes ").contains("application/json")
                .doesNotContain("octet-stream");

        HttpTester.Response wildcard = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: */*\r\nContent-Length: 2\r\n", "{}");
        assertThat(wildcard.getStatus()).as(wildcard.getContent()).isEqualTo(415);
        assertThat(Json.mapper().readTree(wildcard.getContent()).get("instance").asString()).isEqualTo("/v1/requests");
    }

    /**
     * Bodies are bounded outside ingest: before, one account could post a body of any size and Jackson held it whole
     * (a name of tens of millions of characters). A declared length over the bound is refused before reading,
     * a chunked body once the bound is passed; both 413 problems.
     */
    @Test
    void aBodyOverTheCallsBoundIs413() throws IOException {
        String name = "{\"name\":\"" + "a".repeat(1024 * 1024) + "\",\"privileges\":[\"premium:user:basemaps\"]}";
        HttpTester.Response declared = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nContent-Length: "
                + name.length() + "\r\n", name);
        assertThat(declared.getStatus()).as(declared.getContent()).isEqualTo(413);
        assertThat(declared.get(HttpHeader.CONTENT_TYPE)).startsWith("application/problem+json");
        assertThat(Json.mapper().readTree(declared.getContent()).get("detail").asString()).contains("1024 KiB");

        String chunked = Integer.toHexString(name.length()) + "\r\n" + name + "\r\n0\r\n\r\n";
        HttpTester.Response streamed = send("POST /v1/credentials HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.token("acme") + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                chunked);
        assertThat(streamed.getStatus()).as(streamed.getContent()).isEqualTo(413);
        assertThat(streamed.get(HttpHeader.CONTENT_TYPE)).startsWith("application/problem+json");

        // invalidate, regenerate and delete read their optional body themselves: a chunked one too long was a 500
        String none = "6f1c2a40-0000-4000-8000-000000000001";
        for (String call : List.of("POST /v1/credentials/" + none + "/keys/1/invalidate",
                "POST /v1/credentials/" + none + "/keys/1/regenerate", "DELETE /v1/credentials/" + none)) {
            HttpTester.Response optional = send(call + " HTTP/1.1\r\nAuthorization: Bearer " + TestAccounts.token("acme")
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked);
            assertThat(optional.getStatus()).as(call + ": " + optional.getContent()).isEqualTo(413);
            assertThat(Json.mapper().readTree(optional.getContent()).get("detail").asString()).contains("1024 KiB");
        }

        String line = "{\"apiKey\":\"km_x\",\"service\":\"geocoding\",\"referrer\":\"" + "r".repeat(70_000) + "\"}";
        HttpTester.Response verify = send("POST /v1/verify HTTP/1.1\r\nAuthorization: Bearer " + TestAccounts.GATEWAY_TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: " + line.length() + "\r\n", line);
        assertThat(verify.getStatus()).as(verify.getContent()).isEqualTo(413);
        assertThat(Json.mapper().readTree(verify.getContent()).get("detail").asString()).contains("64 KiB");
    }

    /**
     * No call takes a form, and Spring Boot's FormContentFilter read a PUT, PATCH or DELETE form body whole, before
     * the token check and the body bounds: a caller without a token could fill the heap with one chunked body.
     */
    @Test
    void noFilterReadsAFormBody(@Autowired ApplicationContext context) {
        assertThat(context.getBeansOfType(FormContentFilter.class)).isEmpty();
    }

    @Test
    void headersOverJettysLimitAreAProblemDocumentToo() throws IOException {
        HttpTester.Response answer = send("GET /v1/credentials HTTP/1.1\r\nX-Padding: " + "a".repeat(20_000) + "\r\n", "");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(431);
        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).startsWith("application/problem+json");
        assertThat(Json.mapper().readTree(answer.getContent()).get("type").asString())
                .isEqualTo("urn:keymeter:problem:request-header-fields-too-large");
    }

    /**
     * A transfer coding other than chunked is 501 (RFC 9112 §6.1): Jetty took the chunked framing and passed the rest
     * by, so a batch sent {@code Transfer-Encoding: gzip, chunked} was read still compressed, each line refused behind
     * a 202, and a plain one labelled so was taken as if the label were not there.
     */
    @Test
    void aTransferCodingOtherThanChunkedIsNotImplemented() throws IOException {
        String line = "{\"requestId\":\"te-1\",\"apiKey\":\"km_x\",\"service\":\"basemaps\",\"operation\":\"tile\"}\n";
        String chunked = Integer.toHexString(line.length()) + "\r\n" + line + "\r\n0\r\n\r\n";
        for (String codings : List.of("Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
                "Transfer-Encoding: deflate,chunked")) {
            HttpTester.Response answer = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                    + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: application/x-ndjson\r\n" + codings + "\r\n", chunked);
            assertThat(answer.getStatus()).as(codings + ": " + answer.getContent()).isEqualTo(501);
            JsonNode problem = Json.mapper().readTree(answer.getContent());
            assertThat(problem.get("type").asString()).isEqualTo("urn:keymeter:problem:not-implemented");
            assertThat(problem.get("detail").asString()).as(codings).contains("only chunked").contains("Content-Encoding: gzip");
        }
    }

    /**
     * A batch with neither Content-Length nor Transfer-Encoding has no body to HTTP: its lines, sent anyway, were
     * answered 202 with none taken (and read as a second request on a kept connection).
     */
    @Test
    void aBatchWithoutItsLengthIsRefusedSayingSo() throws IOException {
        String line = "{\"requestId\":\"len-1\",\"apiKey\":\"km_x\",\"service\":\"basemaps\",\"operation\":\"tile\"}\n";
        HttpTester.Response answer = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: application/x-ndjson\r\n", line);

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(411);
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString())
                .contains("Content-Length or Transfer-Encoding: chunked").contains("nothing was taken");
    }

    /** A Content-Length Jetty cannot read (more digits than a long holds, or not a number) was a 400 without a reason. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"99999999999999999999", "12x", "-1", "1, 2"})
    void aContentLengthThatIsNotALengthIsToldAsSuch(String length) throws IOException {
        HttpTester.Response answer = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + length
                + "\r\n", "{}\n");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString()).contains("Content-Length");
    }

    /** A chunk's broken size line was told as a body that "ended early", which it had not. */
    @Test
    void aBrokenChunkIsToldAsSuch() throws IOException {
        HttpTester.Response answer = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n",
                "zz\r\n{}\r\n0\r\n\r\n");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString()).contains("chunked framing");
    }

    /**
     * Two Content-Types, or one parameter twice, were resolved silently (the first header, the last charset: a UTF-8
     * batch declared {@code charset=utf-8; charset=utf-16} was read as UTF-16); an unknown charset was "not one
     * concrete media type".
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "Content-Type: application/x-ndjson\\r\\nContent-Type: text/plain | 400 | Content-Type is given more than once",
            "Content-Type: application/x-ndjson; charset=utf-8; charset=utf-16 | 415 | its parameter 'charset' more than once",
            "Content-Type: application/x-ndjson; charset=\"a;b\"; Charset=x    | 415 | its parameter 'charset' more than once",
            "Content-Type: application/x-ndjson; charset=bogus-42              | 415 | the charset 'bogus-42', which this server does not know",
            "Content-Type: application/x-ndjson; charset=                      | 415 | the charset '', which this server does not know",
            "Content-Type: application/x-ndjson; charset=\"utf-8\"             | 202 | ",
    })
    void aContentTypeIsOneAndItsCharsetKnown(String header, int status, String detail) throws IOException {
        String line = "{\"requestId\":\"ct-1\",\"apiKey\":\"km_x\",\"service\":\"basemaps\",\"operation\":\"tile\"}\n";
        HttpTester.Response answer = send("POST /v1/requests HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\n" + header.replace("\\r\\n", "\r\n") + "\r\nContent-Length: "
                + line.length() + "\r\n", line);

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(status);
        if (detail != null) {
            assertThat(Json.mapper().readTree(answer.getContent()).get("detail").asString()).contains(detail);
        }
    }

    /**
     * A gateway call accepting only {@code application/problem+json} was a 406 (its mapping named the type it
     * produces), where every other call answers JSON labelled {@code application/json}; nothing had been done,
     * but the 406 did not say so.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "/v1/requests | application/x-ndjson | {\"requestId\":\"acc-1\",\"apiKey\":\"km_x\",\"service\":\"basemaps\",\"operation\":\"tile\"} | 202",
            "/v1/verify   | application/json     | {\"apiKey\":\"km_x\",\"service\":\"basemaps\"}                                           | 200",
            // other spellings Spring routes to the same controller were labelled application/problem+json
            "/v1;x/verify | application/json     | {\"apiKey\":\"km_x\",\"service\":\"basemaps\"}                                           | 200",
            "/%76%31/verify | application/json   | {\"apiKey\":\"km_x\",\"service\":\"basemaps\"}                                           | 200",
    })
    void aGatewayCallAcceptingAnotherJsonTypeIsAnsweredJson(String path, String type, String body, int status)
            throws IOException {
        HttpTester.Response answer = send("POST " + path + " HTTP/1.1\r\nAuthorization: Bearer "
                + TestAccounts.GATEWAY_TOKEN + "\r\nContent-Type: " + type + "\r\nAccept: application/problem+json\r\n"
                + "Content-Length: " + body.length() + "\r\n", body);

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(status);
        assertThat(answer.get(HttpHeader.CONTENT_TYPE)).startsWith("application/json");
    }

    /** What Jetty refuses once it has read the request line names the path in {@code instance}, as our problems do. */
    @Test
    void whatJettyRefusesNamesThePathCalled() throws IOException {
        HttpTester.Response answer = send("GET /v1/credentials/..;/x HTTP/1.1\r\n", "");

        assertThat(answer.getStatus()).as(answer.getContent()).isEqualTo(400);
        assertThat(Json.mapper().readTree(answer.getContent()).get("instance").asString()).isEqualTo("/v1/credentials/..;/x");
        // refused before KeyInUrlGuard sees it: a key in it, percent-encoded, is masked all the same
        String key = io.keymeter.events.ApiKeys.generate().apiKey();
        HttpTester.Response keyed = send("GET /v1/credentials/" + key.replace("_", "%5F") + "/..;/x HTTP/1.1\r\n", "");
        assertThat(keyed.getStatus()).as(keyed.getContent()).isEqualTo(400);
        assertThat(keyed.getContent()).contains("\"instance\"").doesNotContain(key.substring(20, 36));

        // a path it cannot decode: none, not the placeholder Jetty gives such a request ("/badMessage")
        for (String line : List.of("GET /v1/%zz HTTP/1.1", "GET /v1/credentials/%zz/keys HTTP/1.1",
                "GET /..;/v1/credentials HTTP/1.1", "GET /v1/credentials HTTP/9.9")) {
            HttpTester.Response unread = send(line + "\r\n", "");
            assertThat(unread.getStatus()).as(line).isBetween(400, 505);
            assertThat(Json.mapper().readTree(unread.getContent()).has("instance")).as(line + ": " + unread.getContent())
                    .isFalse();
        }
    }

    /** "not-acceptable" → "Not acceptable": our titles are the reason phrase in sentence case. */
    private static String titleOf(String type) {
        String words = type.replace('-', ' ');
        return words.substring(0, 1).toUpperCase(Locale.ROOT) + words.substring(1);
    }

    /** Jetty's own HTTP test parser reads the answer (chunked or not); the request is written byte for byte. */
    private HttpTester.Response send(String head, String body) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout((int) Duration.ofSeconds(20).toMillis());
            OutputStream out = socket.getOutputStream();
            out.write((head + "Host: localhost\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            return HttpTester.parseResponse(socket.getInputStream());
        }
    }
}
