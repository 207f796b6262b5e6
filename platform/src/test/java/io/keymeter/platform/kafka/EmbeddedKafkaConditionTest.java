package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/** When Keymeter embeds its broker: only when {@code spring.kafka.bootstrap-servers} names no server, in any form. */
class EmbeddedKafkaConditionTest {

    @Configuration(proxyBeanMethods = false)
    @Conditional(EmbeddedKafkaConfiguration.NoClusterConfigured.class)
    static class Embedded {
        @Bean
        String embedded() {
            return "embedded";
        }
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Embedded.class);

    @Test
    void embedsWithoutServersOrWithBlankOnes() {
        runner.run(context -> assertThat(context).hasBean("embedded"));
        runner.withPropertyValues("spring.kafka.bootstrap-servers=").run(context -> assertThat(context).hasBean("embedded"));
    }

    @Test
    void joinsTheClusterGivenAsACommaList() {
        runner.withPropertyValues("spring.kafka.bootstrap-servers=a:9092,b:9092")
                .run(context -> assertThat(context).doesNotHaveBean("embedded"));
    }

    @Test
    void joinsTheClusterGivenAsAListOfKeys() {
        // what a YAML list becomes; the former ${spring.kafka.bootstrap-servers:} placeholder read it as empty
        runner.withPropertyValues("spring.kafka.bootstrap-servers[0]=a:9092", "spring.kafka.bootstrap-servers[1]=b:9092")
                .run(context -> assertThat(context).doesNotHaveBean("embedded"));
    }
}
