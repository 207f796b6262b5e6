package io.keymeter.platform;

import io.keymeter.platform.config.KeymeterProperties;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What every role shares: configuration, the Kafka connection and topics, Streams lifecycle, tokens, errors. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(KeymeterProperties.class)
// the actuator's own context takes ManagementPortFilters (listed for it in META-INF/spring); scanned here too, its
// filters ran a second time on every call
@ComponentScan(basePackageClasses = PlatformConfiguration.class,
        excludeFilters = @ComponentScan.Filter(ManagementContextConfiguration.class))
public class PlatformConfiguration {
}
