package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.keymeter.events.Json;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
}
