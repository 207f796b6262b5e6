package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.testsupport.Health;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code /actuator/*} takes no token, so the README and {@code docker-compose.yml} move it to a port of its own
 * ({@code management.server.port}): there it answers, health and metrics, and the API's port answers the API only.
 * Spring serves that port from a context of its own, without the main context's filters: there TRACE was echoed and
 * answers lacked {@code nosniff} (a key in a URL is refused there as on the API's port), and the start-up report
 * named health on the API's port, a 404.
 */
@ExtendWith(OutputCaptureExtension.class)
class ManagementPortTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    @Timeout(120)
    void theActuatorAnswersOnItsOwnPortAndTheApiOnTheOther(CapturedOutput output) throws Exception {
        try (ConfigurableApplicationContext ingest = new SpringApplicationBuilder(KeymeterApplication.class).run(
                "--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + TempDirs.create("keymeter-management-port"),
                "--keymeter.roles=ingest",
                "--keymeter.gateway-tokens[0]=gateway-management",
                "--keymeter.accounts[0].id=management",
                "--keymeter.accounts[0].token=token-management",
                "--server.port=0",
                "--management.server.port=0")) {
            int api = ingest.getEnvironment().getProperty("local.server.port", Integer.class);
            int management = ingest.getEnvironment().getProperty("local.management.port", Integer.class);
            assertThat(management).isPositive().isNotEqualTo(api);
            // the actuator's context's own filters, not scanned into this one (they ran twice on every call)
            assertThat(ingest.containsBean("managementTraceGuard")).isFalse();
            assertThat(ingest.containsBean("managementKeyInUrlGuard")).isFalse();
            assertThat(ingest.containsBean("managementNoSniffFilter")).isFalse();

            await().atMost(Duration.ofSeconds(60)).until(() -> {
                HttpResponse<String> health = get(management, "/actuator/health", null);
                return health.statusCode() == 200 && Health.isUp(health.body());
            });
            assertThat(get(management, "/actuator/prometheus", null).body()).contains("keymeter_ingest_lines_total");
            assertThat(get(management, "/actuator/health", null).headers().firstValue("X-Content-Type-Options"))
                    .contains("nosniff");
            HttpResponse<String> trace = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + management + "/actuator/health"))
                    .method("TRACE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(trace.statusCode()).as("TRACE refused, not echoed").isEqualTo(405);
            assertThat(trace.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
            // a key in a URL refused there too, before its dispatcher logs the URL at DEBUG
            String key = io.keymeter.events.ApiKeys.generate().apiKey();
            HttpResponse<String> keyInUrl = get(management, "/actuator/health?apiKey=" + key, null);
            assertThat(keyInUrl.statusCode()).isEqualTo(400);
            assertThat(keyInUrl.body()).contains("The URL holds an API key")
                    .doesNotContain(key.substring(20, 20 + io.keymeter.events.ApiKeys.MASKED_FROM));
            assertThat(output.getOut()).contains("health:  http://localhost:" + management + "/actuator/health");
            assertThat(get(api, "/actuator/health", null).statusCode()).isEqualTo(404);
            assertThat(get(api, "/actuator/prometheus", null).statusCode()).isEqualTo(404);
            HttpResponse<String> refused = get(api, "/v1/requests", "gateway-management");
            assertThat(refused.statusCode()).as("the API still answers, with its own problem documents").isEqualTo(405);
            assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
        }
    }

    private HttpResponse<String> get(int port, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
