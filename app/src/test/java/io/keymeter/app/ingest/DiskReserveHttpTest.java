package io.keymeter.app.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * With less free disk than {@code keymeter.ingest.min-free-disk} under the data directory, a batch is answered 503
 * with {@code Retry-After} and the reason, before anything of it reaches Kafka, the log says so once, and health
 * component {@code ingest} is DOWN with the figures.
 */
@ExtendWith(OutputCaptureExtension.class)
class DiskReserveHttpTest {

    @Test
    @Timeout(120)
    void aBatchIsRefusedWhileTheDiskHasLessThanTheReserveFreeAndNothingOfItIsWritten(CapturedOutput output)
            throws Exception {
        try (ConfigurableApplicationContext ingest = new SpringApplicationBuilder(KeymeterApplication.class).run(
                "--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + TempDirs.create("keymeter-disk-reserve"),
                "--keymeter.roles=ingest",
                "--keymeter.gateway-tokens[0]=gateway-disk",
                "--keymeter.accounts[0].id=disk",
                "--keymeter.accounts[0].token=token-disk",
                // more than any disk here has free; set, it applies on a cluster too
                "--keymeter.ingest.min-free-disk=1000000TB",
                "--server.port=0");
             Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
            int port = ingest.getEnvironment().getProperty("local.server.port", Integer.class);
            assertThat(output.getOut()).as("said at start, before any batch").contains("less than "
                    + "keymeter.ingest.min-free-disk (1048576000000 MiB): batches are refused until space is freed");
            String line = "{\"requestId\":\"disk-1\",\"apiKey\":\"" + ApiKeys.generate().apiKey() + "\",\"service\":"
                    + "\"basemaps\",\"operation\":\"tile\",\"timestamp\":\"" + Instant.now() + "\"}\n";
            Map<TopicPartition, Long> before = ends(admin);

            HttpRequest batch = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/requests"))
                    .header("Authorization", "Bearer gateway-disk").header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(line + line.replace("disk-1", "disk-2"))).build();
            HttpResponse<String> answer = HttpClient.newHttpClient().send(batch, HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> again = HttpClient.newHttpClient().send(batch, HttpResponse.BodyHandlers.ofString());

            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(again.statusCode()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(answer.headers().firstValue("Retry-After")).hasValue("30");
            assertThat(answer.body()).contains("\"status\":503").contains("has less free space than "
                    + "keymeter.ingest.min-free-disk: batches are refused until space is freed").doesNotContain("MiB");
            assertThat(ends(admin)).as("nothing written, not even in an aborted transaction").isEqualTo(before);
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://localhost:" + port + "/actuator/health/ingest")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("\"status\":\"DOWN\"").contains("batches are refused: the data "
                    + "directory's disk has ").contains(" free, less than keymeter.ingest.min-free-disk (1048576000000 MiB)");
            assertThat(output.getOut()).as("once for both, at start").containsOnlyOnce("batches are refused until "
                    + "space is freed").contains("less than keymeter.ingest.min-free-disk (1048576000000 MiB)")
                    .doesNotContain("nothing of this one");
        }
    }

    /** The end offsets of {@code keymeter.requests}, aborted and open transactions' records included. */
    private static Map<TopicPartition, Long> ends(Admin admin) throws Exception {
        List<TopicPartition> partitions = admin.describeTopics(List.of(Topics.REQUESTS.name())).allTopicNames().get()
                .get(Topics.REQUESTS.name()).partitions().stream()
                .map(p -> new TopicPartition(Topics.REQUESTS.name(), p.partition())).toList();
        return admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                .all().get().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }
}
