package io.keymeter.platform.kafka;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.config.DataDirLock;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.OwnerOnly;
import io.keymeter.platform.security.AccessTokens;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.DependsOn;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * With no {@code spring.kafka.bootstrap-servers}, Keymeter runs its own broker under the data dir. Every Kafka
 * client finds it through {@link KafkaConnectionDetails}, so they are created after it starts and closed before
 * it stops.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(EmbeddedKafkaConfiguration.NoClusterConfigured.class)
public class EmbeddedKafkaConfiguration {

    /**
     * The embedded broker is one broker: a replication factor above 1 failed later, while the topics were checked,
     * as "Kafka did not answer" with a stack trace.
     */
    @Bean(destroyMethod = "stop")
    @DependsOn(DataDirLock.BEAN)
    EmbeddedKafkaBroker embeddedKafkaBroker(KeymeterProperties properties) {
        int replicas = properties.topics().replicationFactor();
        if (replicas > 1) {
            throw new StartupRefusedException("keymeter.topics.replication-factor is " + replicas + ", but the embedded"
                    + " Kafka broker is a single broker.", "Set it to 1, or point spring.kafka.bootstrap-servers at a"
                    + " cluster of at least " + replicas + " brokers.");
        }
        Path dataDir = properties.dataDir().toAbsolutePath();
        String password = AccessTokens.readOrCreate(dataDir.resolve("kafka-password"), "kmkafka_");
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(properties.kafkaDir(), properties.embeddedKafka().port())
                .withPassword(password).start();
        // once started, so holding the broker's lock: a start refused by it (a role that takes no lock of the
        // process's) wrote its own port over the running broker's, and the file named a port nothing served
        try {
            writeClientProperties(dataDir.resolve(CLIENT_PROPERTIES), broker);
        } catch (RuntimeException e) {
            broker.stop(); // no bean, so no destroy method: stopped here
            throw e;
        }
        return broker;
    }

    /** Beside the password: what Kafka's tools ({@code --command-config}) and a gateway producing directly need. */
    public static final String CLIENT_PROPERTIES = "kafka-client.properties";

    /**
     * The broker's address and sign-in, owner-only like the tokens: written at every start, as the port may change.
     */
    private static void writeClientProperties(Path file, EmbeddedKafkaBroker broker) {
        Properties client = new Properties();
        client.setProperty("bootstrap.servers", broker.bootstrapServers());
        broker.clientSecurity().forEach((key, value) -> client.setProperty(key, String.valueOf(value)));
        try {
            if (!Files.exists(file)) {
                OwnerOnly.createFile(file);
            } else {
                OwnerOnly.restrictFile(file); // made readable by others meanwhile: rewritten, it kept that (the password is in it)
            }
            try (OutputStream out = Files.newOutputStream(file)) {
                client.store(out, "Keymeter's embedded Kafka broker, for Kafka's tools (--command-config) and gateways"
                        + " producing to keymeter.requests");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    @Bean
    KafkaConnectionDetails embeddedKafkaConnectionDetails(EmbeddedKafkaBroker broker) {
        return () -> List.of(broker.bootstrapServers());
    }

    /**
     * Matches when {@code spring.kafka.bootstrap-servers} names no server, read as Spring Boot binds it: a comma
     * list, or a YAML list or indexed keys ({@code [0]}, {@code [1]}), which a {@code ${..}} placeholder does not
     * see (it then started the embedded broker and every client used it instead of the cluster).
     */
    static final class NoClusterConfigured extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            List<String> servers = Binder.get(context.getEnvironment())
                    .bind("spring.kafka.bootstrap-servers", Bindable.listOf(String.class)).orElse(List.of());
            return servers.stream().allMatch(String::isBlank)
                    ? ConditionOutcome.match("no spring.kafka.bootstrap-servers: the embedded broker")
                    : ConditionOutcome.noMatch("spring.kafka.bootstrap-servers " + servers + ": that cluster");
        }
    }
}
