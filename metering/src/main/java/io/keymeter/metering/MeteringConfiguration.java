package io.keymeter.metering;

import io.keymeter.events.Topics;
import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StartRequirements;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The metering role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.METERING)
@ComponentScan(basePackageClasses = MeteringConfiguration.class)
public class MeteringConfiguration {

    /** Name of the Streams application: application id {@code keymeter-metering}. */
    public static final String APP_NAME = "metering";

    @Bean
    MeteringSettings meteringSettings(KeymeterProperties properties,
                                      @Value("${keymeter.metering.join-grace:PT2S}") Duration joinGrace) {
        // checked before anything of Kafka starts (CheckedAtStart): with the configured partition count, which
        // meteringStreams replaces with the cluster's
        return MeteringSettings.of(properties, joinGrace, properties.topics().partitions());
    }

    @Bean
    StreamsApp meteringStreams(StreamsFactory factory, MeteringSettings settings, KafkaTopics topics,
                               MeterRegistry meterRegistry) {
        MeteringSettings onCluster = settings.withRequestPartitions(topics.partitions(Topics.REQUESTS.name()));
        // every changelog write of metering follows a request or key state it consumed: committed state without
        // committed offsets means the offsets were lost, and reading from the start would bill requests again
        return factory.create(APP_NAME, MeteringTopology.build(onCluster, meterRegistry), Map.of(),
                new StartRequirements(MeteringTopology.changelogConfigs(onCluster), true));
    }
}
