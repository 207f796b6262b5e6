package io.keymeter.platform;

import io.keymeter.platform.config.KeymeterProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What every role shares: configuration, the Kafka connection and topics, Streams lifecycle, tokens, errors. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(KeymeterProperties.class)
@ComponentScan(basePackageClasses = PlatformConfiguration.class)
public class PlatformConfiguration {
}
