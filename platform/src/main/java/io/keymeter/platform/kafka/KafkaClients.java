package io.keymeter.platform.kafka;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.kafka.StartupRefusedException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.stereotype.Component;

/**
 * Client settings for every Kafka client Keymeter creates itself: the cluster (embedded or configured), the
 * {@code spring.kafka.*} settings (security and the like), a client properties file's
 * ({@code keymeter.kafka.client-properties}), and Keymeter's own safety defaults.
 */
@Component
public class KafkaClients {

    private static final Logger log = LoggerFactory.getLogger(KafkaClients.class);

    /** The property naming a Kafka client properties file whose settings every client Keymeter makes takes. */
    public static final String CLIENT_PROPERTIES = "keymeter.kafka.client-properties";

    private final KafkaConnectionDetails connection;
    private final KafkaProperties kafkaProperties;
    private final boolean embedded;
    /**
     * Over the {@code spring.kafka.*} settings: a {@code keymeter.kafka.client-properties} file's (a cluster's sign-in
     * kept off the command line), then the embedded broker's sign-in.
     */
    private final Map<String, Object> overrides;

    @Autowired
    public KafkaClients(KafkaConnectionDetails connection, KafkaProperties kafkaProperties,
                        ObjectProvider<EmbeddedKafkaBroker> embedded,
                        @Value("${" + CLIENT_PROPERTIES + ":}") String clientProperties) {
        this.connection = connection;
        this.kafkaProperties = kafkaProperties;
        EmbeddedKafkaBroker broker = embedded.getIfAvailable();
        Map<String, Object> signIn = broker == null ? Map.of() : broker.clientSecurity();
        Map<String, Object> overrides = new HashMap<>(fileSettings(clientProperties));
        overrides.putAll(signIn);
        this.embedded = !signIn.isEmpty();
        this.overrides = Map.copyOf(overrides);
    }

    /** For a cluster: its security, if any, is {@code spring.kafka.*}'s. */
    public KafkaClients(KafkaConnectionDetails connection, KafkaProperties kafkaProperties) {
        this.connection = connection;
        this.kafkaProperties = kafkaProperties;
        this.embedded = false;
        this.overrides = Map.of();
    }

    /**
     * The {@code application.server} Kafka Streams is given, as {@link #streams()} lays the settings: the
     * client-properties file's over {@code spring.kafka.properties} and {@code spring.kafka.streams.properties}.
     * Read before anything starts, for {@code StartupChecks}.
     */
    public static Object applicationServer(KafkaProperties kafkaProperties, String clientProperties) {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildStreamsProperties());
        props.putAll(fileSettings(clientProperties));
        return props.get(StreamsConfig.APPLICATION_SERVER_CONFIG);
    }

    /** The settings of {@code keymeter.kafka.client-properties}'s file; none when it names none. */
    private static Map<String, Object> fileSettings(String clientProperties) {
        return clientProperties == null || clientProperties.isBlank() ? Map.of()
                : fileSettings(Path.of(clientProperties.strip()));
    }

    /**
     * A client properties file as Kafka's tools take it ({@code --command-config}), another Keymeter's
     * {@code kafka-client.properties} for one: its sign-in given as {@code spring.kafka.properties.*} showed the
     * password in the process list. Its {@code bootstrap.servers} is left to {@code spring.kafka.bootstrap-servers},
     * which says whether a broker is embedded.
     */
    static Map<String, Object> fileSettings(Path file) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException(CLIENT_PROPERTIES + ": cannot read " + file.toAbsolutePath() + " ("
                    + (e instanceof NoSuchFileException ? "no such file" : e instanceof AccessDeniedException
                    ? "permission denied" : e.getMessage()) + ")", e);
        }
        Map<String, Object> settings = new HashMap<>();
        properties.forEach((key, value) -> settings.put(((String) key).strip(), ((String) value).strip()));
        settings.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
        return Map.copyOf(settings);
    }

    /** Whether the cluster is Keymeter's own embedded broker, which takes only clients signed in. */
    public boolean embedded() {
        return embedded;
    }

    public String bootstrapServers() {
        return String.join(",", connection.getBootstrapServers());
    }

    /**
     * Idempotent producer, {@code acks=all}: nothing acknowledged is lost, nothing retried is duplicated. Records go
     * to their key's murmur2 partition whatever partitioner the cluster's other clients are given: a request on
     * another partition than its key's state is a dead letter, a command on another than its credential's splits it.
     * A setting the idempotent producer refuses fails here, at start-up, not at the first batch.
     */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildProducerProperties());
        props.putAll(overrides);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        keyPartitioning(props, ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, clientId);
        props.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
        props.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        checkProducer(props);
        return props;
    }

    /**
     * Drops {@code partitioner.class} and {@code partitioner.ignore.keys}, plain and {@code producer.}-prefixed (Kafka
     * Streams), given for the cluster's other clients, with a warning, and sets {@code ignoreKeysSetting} false: every
     * record Keymeter writes goes to its key's murmur2 partition, where the records it is joined or summed with are.
     */
    public static void keyPartitioning(Map<? super String, Object> props, String ignoreKeysSetting, String client) {
        boolean given = false;
        for (String setting : List.of(ProducerConfig.PARTITIONER_CLASS_CONFIG,
                ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG,
                StreamsConfig.producerPrefix(ProducerConfig.PARTITIONER_CLASS_CONFIG),
                StreamsConfig.producerPrefix(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG))) {
            Object value = props.remove(setting);
            given |= value != null && !"false".equalsIgnoreCase(String.valueOf(value).strip());
        }
        props.put(ignoreKeysSetting, false);
        if (given) {
            log.warn("{} and {} ignored for {}: its records go to their key's partition",
                    ProducerConfig.PARTITIONER_CLASS_CONFIG, ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, client);
        }
    }

    /** Kafka's own check of the settings (idempotence against retries, in-flight requests and the like). */
    private static void checkProducer(Map<String, Object> props) {
        Map<String, Object> check = new HashMap<>(props);
        check.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        check.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try {
            new ProducerConfig(check);
        } catch (ConfigException e) {
            throw new StartupRefusedException("Kafka refuses Keymeter's producer settings: " + e.getMessage(),
                    "Change it in spring.kafka.producer.*, spring.kafka.properties.* or " + CLIENT_PROPERTIES
                            + ": Keymeter's producers are idempotent, with acks=all.", e);
        }
    }

    public Map<String, Object> consumer(String clientId) {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildConsumerProperties());
        props.putAll(overrides);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        props.remove("key.deserializer");
        props.remove("value.deserializer");
        return props;
    }

    public Map<String, Object> admin() {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildAdminProperties());
        props.putAll(overrides);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** The {@code spring.kafka.*} settings for Kafka Streams, with this cluster. */
    public Map<String, Object> streams() {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildStreamsProperties());
        props.putAll(overrides);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    public Admin newAdmin() {
        return Admin.create(admin());
    }
}
