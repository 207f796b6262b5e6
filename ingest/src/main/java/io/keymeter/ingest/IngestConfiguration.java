package io.keymeter.ingest;

import io.keymeter.ingest.parse.RequestLineValidator;
import io.keymeter.ingest.publish.PublishSettings;
import io.keymeter.ingest.publish.TransactionalPublisher;
import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.kafka.KafkaClients;
import java.time.Clock;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The ingest role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.INGEST)
@ComponentScan(basePackageClasses = IngestConfiguration.class)
public class IngestConfiguration {

    @Bean
    RequestLineValidator requestLineValidator(Clock clock, KeymeterProperties properties) {
        return new RequestLineValidator(clock, properties.ingest().maxAge(), properties.ingest().maxFutureSkew());
    }

    /** Producer pool; tuning under {@code keymeter.ingest.publish.*} (not part of the contract, see README). */
    @Bean
    PublishSettings publishSettings(
            @Value("${keymeter.ingest.publish.producers:4}") int producers,
            @Value("${keymeter.ingest.publish.timeout:PT10S}") Duration timeout,
            // the commit at the end of each batch sends whatever lingers, so a long linger delays no answer; a short
            // one cut the batches into many small producer batches, each allocating its own lz4 buffers
            @Value("${keymeter.ingest.publish.linger-ms:50}") int lingerMs,
            @Value("${keymeter.ingest.publish.batch-bytes:262144}") int batchBytes,
            @Value("${keymeter.ingest.publish.compression:lz4}") String compression) {
        return new PublishSettings(producers, timeout, lingerMs, batchBytes, compression);
    }

    @Bean(destroyMethod = "close")
    TransactionalPublisher transactionalPublisher(KafkaClients clients, PublishSettings settings) {
        return new TransactionalPublisher(clients.producer("keymeter-ingest"), settings);
    }
}
