package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.StartupRefusedException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RoundRobinPartitioner;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * Keymeter's own producers (ingest's, the credential commands') send each record to its key's partition, the one
 * its key state or credential lives on, whatever the operator gives the cluster's other clients; and a setting the
 * idempotent producer refuses stops the start, where ingest met it only at its first batch (503 on every batch).
 */
class KafkaClientsProducerTest {

    @Test
    void aPartitionerGivenToEveryProducerIsNotKeymeters() {
        KafkaProperties spring = new KafkaProperties();
        spring.getProducer().getProperties().put(ProducerConfig.PARTITIONER_CLASS_CONFIG,
                RoundRobinPartitioner.class.getName());
        spring.getProducer().getProperties().put(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, "true");

        Map<String, Object> producer = clients(spring).producer("keymeter-ingest");

        assertThat(producer).doesNotContainKey(ProducerConfig.PARTITIONER_CLASS_CONFIG)
                .containsEntry(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, false)
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    }

    @Test
    void otherProducerSettingsStillApply() {
        KafkaProperties spring = new KafkaProperties();
        spring.getProducer().getProperties().put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "3");

        assertThat(clients(spring).producer("keymeter-ingest"))
                .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "3");
    }

    @Test
    void aSettingTheIdempotentProducerRefusesFailsAtOnce() {
        for (Map.Entry<String, String> setting : Map.of(
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "10",
                ProducerConfig.RETRIES_CONFIG, "0").entrySet()) {
            KafkaProperties spring = new KafkaProperties();
            spring.getProducer().getProperties().put(setting.getKey(), setting.getValue());

            assertThatThrownBy(() -> clients(spring).producer("keymeter-ingest")).as(setting.getKey())
                    .isInstanceOf(StartupRefusedException.class).hasMessageContaining(setting.getKey())
                    .hasMessageContaining("spring.kafka.producer.*").hasCauseInstanceOf(ConfigException.class);
        }
    }

    private static KafkaClients clients(KafkaProperties spring) {
        return new KafkaClients(() -> List.of("localhost:1"), spring);
    }
}
