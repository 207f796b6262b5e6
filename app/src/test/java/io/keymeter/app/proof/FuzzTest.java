package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import io.keymeter.testsupport.Health;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Thousands of random and mutated bodies, headers and query strings against every endpoint: never a 5xx, never a
 * hung request, and the service still answers correctly afterwards. Seeded, so a failure can be replayed.
 */
@KeymeterIntegrationTest
class FuzzTest {

    /**
     * Longer than any answer is designed to take (a credential change may wait 5 s to be sent and 25 s for its reply
     * on a loaded machine): 15 s counted a slow answer as a hung request.
     */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(40);

    private static final long SEED = Long.getLong("fuzz.seed", 20261126L);
    private static final int CASES = Integer.getInteger("fuzz.cases", 2500);
    private static final String ACCOUNT = "oscorp";

    private static final String[] VALID_BODIES = {
            "{\"name\":\"fuzz\",\"privileges\":[\"premium:user:geocode:temporary\"],\"itemAccess\":[],\"referrers\":[]}",
            "{\"privileges\":[\"premium:user:basemaps\"]}",
            "{\"itemAccess\":[\"item-1\"]}",
            "{\"referrers\":[\"https://*.example.com\"]}",
            "{\"slot\":1,\"expiresAt\":\"2027-01-01T00:00:00Z\"}",
            "{\"expiresAt\":\"2027-02-01T00:00:00Z\"}",
            "{\"apiKey\":\"km_0000000000000000_00000000000000000000000000000000000000\",\"service\":\"geocoding\"}",
            "{\"requestId\":\"f-1\",\"apiKey\":\"km_x\",\"service\":\"geocoding\",\"units\":1,\"timestamp\":\"2026-11-26T00:00:00Z\"}",
    };
    private static final String[] CONTENT_TYPES = {"application/json", "application/x-ndjson", "text/plain",
            "application/xml", "multipart/form-data; boundary=x", "application/json; charset=latin1", "", "*/*",
            "application/problem+json"};

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Random random = new Random(SEED);

    @Test
    void randomAndMutatedInputNeverCausesA5xxOrAHang() throws Exception {
        String credentialId = createCredential();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < CASES && failures.size() < 20; i++) {
            HttpRequest request = randomRequest(credentialId);
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() >= 500 && response.statusCode() != 503) {
                    failures.add("case " + i + ": " + request.method() + " " + request.uri() + " -> "
                            + response.statusCode() + " " + response.body());
                }
            } catch (HttpTimeoutException e) {
                failures.add("case " + i + ": " + request.method() + " " + request.uri() + " hung");
            }
        }
        assertThat(failures).isEmpty();

        HttpResponse<String> privileges = http.send(get("/v1/privileges", TestAccounts.token(ACCOUNT)),
                HttpResponse.BodyHandlers.ofString());
        assertThat(privileges.statusCode()).isEqualTo(200);
        assertThat(privileges.body()).contains("premium:user:geocode:temporary");
        assertThat(http.send(get("/v1/credentials/" + credentialId, TestAccounts.token(ACCOUNT)),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isIn(200, 404);
        await().atMost(Duration.ofSeconds(30)).until(() -> Health.overallStatus(http.send(get("/actuator/health", null),
                HttpResponse.BodyHandlers.ofString()).body()), "UP"::equals);
    }

    private String createCredential() throws IOException, InterruptedException {
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(uri("/v1/credentials"))
                .header("Authorization", "Bearer " + TestAccounts.token(ACCOUNT)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(VALID_BODIES[0])).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(201);
        return created.body().replaceAll("(?s).*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1");
    }

    private HttpRequest randomRequest(String credentialId) {
        String id = random.nextInt(4) == 0 ? randomText(20) : credentialId;
        String[][] endpoints = {
                {"GET", "/v1/privileges"}, {"POST", "/v1/credentials"}, {"GET", "/v1/credentials"},
                {"GET", "/v1/credentials/" + id}, {"PUT", "/v1/credentials/" + id + "/privileges"},
                {"PUT", "/v1/credentials/" + id + "/item-access"}, {"PUT", "/v1/credentials/" + id + "/referrers"},
                {"POST", "/v1/credentials/" + id + "/keys"},
                {"POST", "/v1/credentials/" + id + "/keys/" + randomSlot() + "/regenerate"},
                {"POST", "/v1/credentials/" + id + "/keys/" + randomSlot() + "/invalidate"},
                {"POST", "/v1/requests"}, {"POST", "/v1/verify"}, {"GET", "/v1/usage"}, {"GET", "/v1/usage/daily"},
                {"GET", "/v1/usage.csv"}, {"GET", "/v1/statements"}, {"GET", "/v1/security-alerts"}, {"GET", "/"},
                {"DELETE", "/v1/credentials/" + randomText(8)},
        };
        String[] endpoint = endpoints[random.nextInt(endpoints.length)];
        String method = random.nextInt(15) == 0 ? new String[] {"PATCH", "DELETE", "PUT", "GET", "POST"}[random.nextInt(5)]
                : endpoint[0];
        String path = endpoint[1] + (random.nextInt(3) == 0 ? "?" + randomQuery() : "");
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri(path)).timeout(ANSWER_WITHIN);
        String token = switch (random.nextInt(6)) {
            case 0 -> null;
            case 1 -> randomText(30);
            default -> endpoint[1].equals("/v1/requests") || endpoint[1].equals("/v1/verify")
                    ? TestAccounts.GATEWAY_TOKEN : TestAccounts.token(ACCOUNT);
        };
        if (token != null) {
            builder.header("Authorization", random.nextInt(10) == 0 ? token : "Bearer " + token);
        }
        String contentType = CONTENT_TYPES[random.nextInt(CONTENT_TYPES.length)];
        if (!contentType.isEmpty()) {
            builder.header("Content-Type", contentType);
        }
        byte[] body = randomBody();
        if (random.nextInt(8) == 0) {
            builder.header("Content-Encoding", "gzip");
            if (random.nextBoolean()) {
                body = gzip(body);
            }
        }
        boolean hasBody = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
        return builder.method(method, hasBody ? HttpRequest.BodyPublishers.ofByteArray(body)
                : HttpRequest.BodyPublishers.noBody()).build();
    }

    private byte[] randomBody() {
        return switch (random.nextInt(6)) {
            case 0 -> randomBytes();
            case 1 -> randomJson(0).getBytes(StandardCharsets.UTF_8);
            case 2 -> mutate(VALID_BODIES[random.nextInt(VALID_BODIES.length)]).getBytes(StandardCharsets.UTF_8);
            case 3 -> ("[" + mutate(VALID_BODIES[7]) + "," + randomJson(0) + "]").getBytes(StandardCharsets.UTF_8);
            case 4 -> (mutate(VALID_BODIES[7]) + "\n" + randomText(50) + "\n" + VALID_BODIES[7]).getBytes(StandardCharsets.UTF_8);
            default -> new byte[0];
        };
    }

    private String mutate(String json) {
        StringBuilder s = new StringBuilder(json);
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits && s.length() > 0; i++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(6)) {
                case 0 -> s.deleteCharAt(at);
                case 1 -> s.insert(at, randomJson(1));
                case 2 -> s.setCharAt(at, "{}[]\",:0-e\\\u0000é".charAt(random.nextInt(13)));
                case 3 -> s.insert(at, "9".repeat(1 + random.nextInt(40)));
                case 4 -> s.replace(0, s.length(), s.toString().replace("\"slot\":1", "\"slot\":" + randomNumber()));
                default -> s.insert(at, "\"x" + random.nextInt(5) + "\":null,");
            }
        }
        return s.toString();
    }

    private String randomJson(int depth) {
        int kind = depth > 3 ? random.nextInt(4) : random.nextInt(7);
        return switch (kind) {
            case 0 -> "\"" + randomText(random.nextInt(300)).replace("\\", "").replace("\"", "") + "\"";
            case 1 -> randomNumber();
            case 2 -> random.nextBoolean() ? "true" : "null";
            case 3 -> "\"2026-" + random.nextInt(20) + "-" + random.nextInt(40) + "T25:61:00Z\"";
            case 4 -> {
                StringBuilder a = new StringBuilder("[");
                for (int i = random.nextInt(4); i > 0; i--) {
                    a.append(randomJson(depth + 1)).append(i > 1 ? "," : "");
                }
                yield a.append("]").toString();
            }
            default -> {
                String[] fields = {"name", "privileges", "itemAccess", "referrers", "slot", "expiresAt", "apiKey",
                        "service", "requestId", "units", "timestamp", "referrer", "itemId", "operation", randomText(5)};
                StringBuilder o = new StringBuilder("{");
                for (int i = random.nextInt(5); i > 0; i--) {
                    o.append("\"").append(fields[random.nextInt(fields.length)].replace("\"", "")).append("\":")
                            .append(randomJson(depth + 1)).append(i > 1 ? "," : "");
                }
                yield o.append("}").toString();
            }
        };
    }

    private String randomNumber() {
        return switch (random.nextInt(5)) {
            case 0 -> String.valueOf(random.nextInt());
            case 1 -> "-" + random.nextInt(10);
            case 2 -> "1e" + random.nextInt(400);
            case 3 -> "99999999999999999999999999";
            default -> String.valueOf(random.nextDouble());
        };
    }

    private String randomQuery() {
        String[] names = {"cycle", "credentialId", "service", "x"};
        String[] values = {"2026-13", "2026-00", "26-1", "", "2026-11", "0000-01", "9999-12", randomText(10),
                "%", "2026-02", "../../etc/passwd"};
        return names[random.nextInt(names.length)] + "=" + URLEncoder.encode(values[random.nextInt(values.length)],
                StandardCharsets.UTF_8);
    }

    private String randomSlot() {
        return new String[] {"1", "2", "0", "3", "-1", "x", "99999999999"}[random.nextInt(7)];
    }

    private String randomText(int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append((char) (random.nextBoolean() ? 'a' + random.nextInt(26) : 32 + random.nextInt(95)));
        }
        return URLEncoder.encode(s.toString(), StandardCharsets.UTF_8).replace("+", "");
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[random.nextInt(2000)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] gzip(byte[] body) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream(); GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(body);
            gz.finish();
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest get(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(ANSWER_WITHIN).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    private URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }
}
