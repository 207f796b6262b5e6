package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.sun.net.httpserver.HttpServer;
import io.keymeter.events.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;

/**
 * There is no Docker engine on the build machines: {@code docker-compose.yml} is checked against the Compose
 * Specification schema kept in the repository, and for what the schema cannot see.
 */
class ComposeFileTest {

    private static JsonNode compose;

    @BeforeAll
    static void load() throws Exception {
        Path file = Path.of("..", "docker-compose.yml");
        try (Reader reader = Files.newBufferedReader(file)) {
            // SnakeYAML resolves the merge keys (<<) that Compose supports
            Object yaml = new Yaml().load(reader);
            compose = Json.mapper().valueToTree(yaml);
        }
    }

    @Test
    void composeFileMatchesTheComposeSpecification() throws Exception {
        Schema schema;
        try (InputStream in = ComposeFileTest.class.getResourceAsStream("/compose-spec/compose-spec.json")) {
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2019_09).getSchema(in);
        }

        List<Error> errors = schema.validate(compose);

        assertThat(errors).as("schema errors").isEmpty();
    }

    @Test
    void everyDependencyNamesADefinedService() {
        JsonNode services = compose.get("services");
        for (Map.Entry<String, JsonNode> service : services.properties()) {
            JsonNode dependsOn = service.getValue().get("depends_on");
            if (dependsOn == null) {
                continue;
            }
            Iterable<String> names = dependsOn.isArray()
                    ? dependsOn.valueStream().map(JsonNode::asString).toList()
                    : dependsOn.propertyNames();
            for (String name : names) {
                assertThat(services.has(name)).as("%s depends on %s", service.getKey(), name).isTrue();
            }
        }
    }

    @Test
    void kafkaRunsInKraftModeAndEveryRoleRunsOnIt() {
        JsonNode services = compose.get("services");
        assertThat(services.get("kafka").get("image").asString()).startsWith("apache/kafka:");
        assertThat(services.get("kafka").get("environment").get("KAFKA_PROCESS_ROLES").asString()).isEqualTo("broker,controller");

        String roles = String.join(",", services.valueStream()
                .filter(s -> s.has("environment") && s.get("environment").has("KEYMETER_ROLES"))
                .map(s -> s.get("environment").get("KEYMETER_ROLES").asString()).toList());
        for (String role : List.of("credential-store", "ingest", "metering", "billing-report", "console")) {
            assertThat(roles).as("a service runs %s", role).contains(role);
        }
        services.valueStream().filter(s -> s.has("environment") && s.get("environment").has("KEYMETER_ROLES"))
                .forEach(s -> assertThat(s.get("environment").get("SPRING_KAFKA_BOOTSTRAP_SERVERS").asString())
                        .isEqualTo("kafka:9092"));
        assertThat(Files.exists(Path.of("..", "Dockerfile"))).isTrue();
    }

    /**
     * The image formats the broker with transactions v2, on which Keymeter's exactly-once writes were refused and
     * metering stayed stuck after a broker crash: a one-shot service downgrades it before any Keymeter starts.
     */
    @Test
    void everyKeymeterStartsAfterTheBrokerIsOnTransactionsV1() {
        JsonNode services = compose.get("services");
        JsonNode downgrade = services.get("kafka-transactions-v1");
        assertThat(downgrade.get("image").asString()).isEqualTo(services.get("kafka").get("image").asString());
        assertThat(downgrade.get("depends_on").get("kafka").get("condition").asString()).isEqualTo("service_healthy");
        assertThat(downgrade.get("command").valueStream().map(JsonNode::asString).toList()).containsExactly(
                "/opt/kafka/bin/kafka-features.sh", "--bootstrap-server", "kafka:9092", "downgrade",
                "--feature", "transaction.version=1");
        services.properties().stream()
                .filter(s -> s.getValue().has("environment") && s.getValue().get("environment").has("KEYMETER_ROLES"))
                .forEach(s -> assertThat(s.getValue().get("depends_on").get("kafka-transactions-v1").get("condition")
                        .asString()).as(s.getKey()).isEqualTo("service_completed_successfully"));
    }

    @Test
    void kafkaKeepsItsDataOnItsVolume() {
        JsonNode kafka = compose.get("services").get("kafka");
        String logDirs = kafka.get("environment").get("KAFKA_LOG_DIRS").asString();
        List<String> mounts = kafka.get("volumes").valueStream().map(v -> v.asString().split(":")[1]).toList();
        assertThat(mounts).as("the image's default log dir is under /tmp, off any volume").contains(logDirs);
    }

    /** Kafka's default deletes a group's offsets after 7 days without members; metering then refuses to start. */
    @Test
    void kafkaKeepsAStoppedRolesOffsetsForGood() {
        JsonNode kafka = compose.get("services").get("kafka");
        assertThat(kafka.get("environment").get("KAFKA_OFFSETS_RETENTION_MINUTES").asString())
                .isEqualTo(String.valueOf(Integer.MAX_VALUE));
    }

    /** The image's heap is a share of the memory the JVM sees: without a limit, every service takes the host's. */
    @Test
    void everyKeymeterHasAMemoryLimit() {
        compose.get("services").properties().stream()
                .filter(s -> s.getValue().has("environment") && s.getValue().get("environment").has("KEYMETER_ROLES"))
                .forEach(s -> assertThat(s.getValue().has("mem_limit")).as(s.getKey()).isTrue());
        assertThat(readDockerfile()).contains("-XX:MaxRAMPercentage=");
    }

    /** The actuator takes no token: its port is the healthcheck's and is not published, unlike the API's. */
    @Test
    void theActuatorHasAnUnpublishedPortOfItsOwn() {
        String port = compose.get("x-keymeter").get("environment").get("MANAGEMENT_SERVER_PORT").asString();
        compose.get("services").properties().stream()
                .filter(s -> s.getValue().has("environment") && s.getValue().get("environment").has("KEYMETER_ROLES"))
                .forEach(s -> {
                    assertThat(s.getValue().get("environment").get("MANAGEMENT_SERVER_PORT").asString())
                            .as(s.getKey()).isEqualTo(port).isNotEqualTo("8080");
                    assertThat(s.getValue().get("ports").valueStream().map(JsonNode::asString))
                            .as(s.getKey()).noneMatch(p -> p.endsWith(":" + port)).anyMatch(p -> p.endsWith(":8080"));
                    assertThat(s.getValue().get("healthcheck").get("test").valueStream().map(JsonNode::asString))
                            .as(s.getKey()).anyMatch(a -> a.contains("/dev/tcp/127.0.0.1/" + port + " "));
                });
    }

    /** Keymeter makes its data dir owner-only, warning when it was not: a new volume takes the image's mode. */
    @Test
    void theImageMakesItsDataDirOwnerOnly() {
        assertThat(readDockerfile()).contains("install -d -m 700 -o keymeter /var/lib/keymeter")
                .doesNotContain("mkdir -p /var/lib/keymeter");
    }

    @Test
    void keymetersHealthcheckPassesOnlyWhenTheOverallHealthIsUp() throws Exception {
        List<String> test = compose.get("services").get("ingest").get("healthcheck").get("test").valueStream()
                .map(JsonNode::asString).toList();
        assertThat(test.get(0)).as("exec form: the image's sh is dash, without /dev/tcp").isEqualTo("CMD");

        assertThat(runHealthcheck(test, 200, "{\"status\":\"UP\"}")).as("UP, 200").isZero();
        // a component UP inside an overall DOWN (what the former `grep -q UP` passed on)
        assertThat(runHealthcheck(test, 503, "{\"status\":\"DOWN\",\"components\":{\"kafka\":{\"status\":\"UP\"}}}"))
                .as("DOWN, 503").isNotZero();
    }

    @Test
    void theImageBuildsWithTheWrapper() throws Exception {
        String dockerfile = readDockerfile();
        String wrapper = Files.readString(Path.of("..", ".mvn", "wrapper", "maven-wrapper.properties"));
        assertThat(wrapper).contains("distributionSha256Sum");
        // without unzip, mvnw downloads the tar.gz and checks it against the zip's SHA-256, which fails the build
        assertThat(dockerfile.indexOf("install -y --no-install-recommends unzip")).as("unzip installed")
                .isPositive().isLessThan(dockerfile.indexOf("./mvnw"));
    }

    private static String readDockerfile() {
        try {
            return Files.readString(Path.of("..", "Dockerfile"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the healthcheck's command as Docker would, against a server answering health with this status. */
    private static int runHealthcheck(List<String> test, int status, String body) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/actuator/health", exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        try {
            List<String> command = test.subList(1, test.size()).stream()
                    .map(a -> a.replace("127.0.0.1/9090", "127.0.0.1/" + server.getAddress().getPort())).toList();
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("the healthcheck finished").isTrue();
            return process.exitValue();
        } finally {
            server.stop(0);
        }
    }
}
