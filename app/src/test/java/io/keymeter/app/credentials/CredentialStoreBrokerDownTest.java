package io.keymeter.app.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.app.support.AppHttp;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.FreePorts;
import io.keymeter.testsupport.TempDirs;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A credential change while the broker is down is answered 503 within the send bound, and nothing was applied.
 * The command producer has never sent (or, in production, has been idle 5 minutes and dropped the topic's
 * metadata): {@code send()} blocked for the producer's default {@code max.block.ms}, a minute, before the answer.
 * Own broker (the shared one must not be stopped) on a fixed port, so the clients reconnect after its restart.
 */
@Timeout(150)
class CredentialStoreBrokerDownTest {

    private static final String TOKEN = "token-credentials-down";
    private static final String CREDENTIAL = "{\"name\":\"down\",\"privileges\":[\"premium:user:basemaps\"]}";

    private EmbeddedKafkaBroker broker;
    private ConfigurableApplicationContext app;
    private AppHttp http;

    @BeforeEach
    void start() {
        Path dir = TempDirs.create("keymeter-credentials-down");
        broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), FreePorts.next()).start();
        app = new SpringApplication(KeymeterApplication.class).run(
                "--server.port=0",
                "--keymeter.roles=credential-store",
                "--keymeter.data-dir=" + dir,
                "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                "--keymeter.accounts[0].id=credentials-down",
                "--keymeter.accounts[0].token=" + TOKEN);
        http = new AppHttp(app, Duration.ofSeconds(90));
    }

    @AfterEach
    void stop() {
        broker.start(); // no-op when running; Keymeter stops faster with its broker there
        app.close();
        broker.stop();
    }

    @Test
    void aChangeWhileTheBrokerIsDownIsRefusedWithinTheSendBoundAndNothingIsApplied() throws Exception {
        broker.stop();
        long started = System.nanoTime();
        HttpResponse<String> refused = send("POST", "/v1/credentials", CREDENTIAL);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(refused.body()).contains("nothing was applied");
        // the send is bounded at 5 s; Kafka's default max.block.ms made it 60 (a loaded machine's room between)
        assertThat(took).isLessThan(Duration.ofSeconds(40));

        broker.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> send("POST", "/v1/credentials", CREDENTIAL.replace("down", "after")).statusCode() == 201);
        // a list is a 503 while the store's partitions settle after the broker's return (a rebalance)
        HttpResponse<String> list = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> send("GET", "/v1/credentials", null), answer -> answer.statusCode() == 200);
        assertThat(list.body()).contains("\"name\":\"after\"").as("the refused change was not applied")
                .doesNotContain("\"name\":\"down\"");
    }

    private HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
        return http.send(method, path, json, TOKEN);
    }
}
