package io.keymeter.app.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.AwaitStreamsRunning;
import io.keymeter.app.support.OwnKafka;
import io.keymeter.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A change whose transaction commits late is still answered, with its secret. The credential store commits every
 * 8 s here, so a command sent just after a commit is applied at once but answered about 8 s later: longer than the
 * 5 s a call used to wait, after which it answered 503 while the key was applied, its secret gone for good (and, for
 * a regeneration, the caller's working key invalidated). Own broker and Keymeter, for the commit interval.
 */
@Timeout(180)
class SlowCommitTest {

    private static final String ACCOUNT_TOKEN = "token-slow-commit";
    /** Sent just after a commit, a call waits most of this: 3 s above the 5 s bound, for a slow machine's delays. */
    private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(8);

    private final HttpClient http = HttpClient.newHttpClient();
    private OwnKafka kafka;
    private ConfigurableApplicationContext app;

    @BeforeEach
    void start() {
        kafka = OwnKafka.start("keymeter-slow-commit");
        app = kafka.startKeymeter("--keymeter.roles=credential-store",
                "--keymeter.data-dir=" + kafka.dir(),
                "--keymeter.credentials.commit-interval=" + COMMIT_INTERVAL,
                "--keymeter.accounts[0].id=slow-commit",
                "--keymeter.accounts[0].token=" + ACCOUNT_TOKEN);
        AwaitStreamsRunning.ready(app); // a command sent while the store still joins its group can expire (503)
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void aKeyAppliedBeforeItsDeadlineButCommittedLaterIsAnsweredWithItsSecret() throws Exception {
        String credential = json(send("POST", "/v1/credentials",
                "{\"name\":\"slow\",\"privileges\":[\"premium:user:basemaps\"],\"itemAccess\":[],\"referrers\":[]}",
                201)).get("id").asString();
        String expiresAt = Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS).toString();
        JsonNode first = json(send("POST", "/v1/credentials/" + credential + "/keys",
                "{\"expiresAt\":\"" + expiresAt + "\"}", 201));

        long started = System.nanoTime();
        JsonNode second = json(send("POST", "/v1/credentials/" + credential + "/keys/1/regenerate", "{}", 201));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // sent just after the previous call's commit, so answered at the next one
        assertThat(took).as("answered after the 5 s a call used to wait").isGreaterThan(Duration.ofSeconds(5));
        assertThat(second.get("apiKey").asString()).startsWith("km_");
        JsonNode keys = json(send("GET", "/v1/credentials/" + credential, null, 200)).get("keys");
        assertThat(keys).hasSize(1);
        assertThat(keys.get(0).get("keyId").asString()).as("the key answered is the key applied")
                .isEqualTo(second.get("keyId").asString()).isNotEqualTo(first.get("keyId").asString());
        assertThat(keys.get(0).get("status").asString()).isEqualTo("active");
    }

    private HttpResponse<String> send(String method, String path, String json, int expected)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:"
                        + ((WebServerApplicationContext) app).getWebServer().getPort() + path))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + ACCOUNT_TOKEN)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(expected);
        return response;
    }

    private static JsonNode json(HttpResponse<String> response) {
        return Json.mapper().readTree(response.body());
    }
}
