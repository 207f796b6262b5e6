package io.keymeter.platform.kafka;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.stereotype.Component;

/**
 * Client settings for every Kafka client Keymeter creates itself: the cluster (embedded or configured), the
 * {@code spring.kafka.*} settings (security and the like), and Keymeter's own safety defaults.
 */
@Component
public class KafkaClients {

    private final KafkaConnectionDetails connection;
    private final KafkaProperties kafkaProperties;
    /** The embedded broker's sign-in; nothing for a cluster, whose security is {@code spring.kafka.*}'s. */
    private final Map<String, Object> embeddedSecurity;

    @Autowired
    public KafkaClients(KafkaConnectionDetails connection, KafkaProperties kafkaProperties,
                        ObjectProvider<EmbeddedKafkaBroker> embedded) {
        this.connection = connection;
        this.kafkaProperties = kafkaProperties;
        EmbeddedKafkaBroker broker = embedded.getIfAvailable();
        this.embeddedSecurity = broker == null ? Map.of() : broker.clientSecurity();
    }

    /** For a cluster: its security, if any, is {@code spring.kafka.*}'s. */
    public KafkaClients(KafkaConnectionDetails connection, KafkaProperties kafkaProperties) {
        this.connection = connection;
        this.kafkaProperties = kafkaProperties;
        this.embeddedSecurity = Map.of();
    }

    /** Whether the cluster is Keymeter's own embedded broker, which takes only clients signed in. */
    public boolean embedded() {
        return !embeddedSecurity.isEmpty();
    }

    public String bootstrapServers() {
        return String.join(",", connection.getBootstrapServers());
    }

    /** Idempotent producer, {@code acks=all}: nothing acknowledged is lost, nothing retried is duplicated. */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildProducerProperties());
        props.putAll(embeddedSecurity);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
        props.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        return props;
    }

    public Map<String, Object> consumer(String clientId) {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildConsumerProperties());
        props.putAll(embeddedSecurity);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        props.remove("key.deserializer");
        props.remove("value.deserializer");
        return props;
    }

    public Map<String, Object> admin() {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildAdminProperties());
        props.putAll(embeddedSecurity);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** The {@code spring.kafka.*} settings for Kafka Streams, with this cluster. */
    public Map<String, Object> streams() {
        Map<String, Object> props = new HashMap<>(kafkaProperties.buildStreamsProperties());
        props.putAll(embeddedSecurity);
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    public Admin newAdmin() {
        return Admin.create(admin());
    }
}
