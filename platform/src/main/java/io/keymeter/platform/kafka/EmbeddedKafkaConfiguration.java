package io.keymeter.platform.kafka;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.config.KeymeterProperties;
import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * With no {@code spring.kafka.bootstrap-servers}, Keymeter runs its own broker under the data dir. Every Kafka
 * client finds it through {@link KafkaConnectionDetails}, so they are created after it starts and closed before
 * it stops.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.kafka.bootstrap-servers:}'.isEmpty()")
public class EmbeddedKafkaConfiguration {

    @Bean(initMethod = "start", destroyMethod = "stop")
    EmbeddedKafkaBroker embeddedKafkaBroker(KeymeterProperties properties) {
        return new EmbeddedKafkaBroker(properties.kafkaDir(), properties.embeddedKafka().port());
    }

    @Bean
    KafkaConnectionDetails embeddedKafkaConnectionDetails(EmbeddedKafkaBroker broker) {
        return () -> List.of(broker.bootstrapServers());
    }
}
