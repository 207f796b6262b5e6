package io.keymeter.ingest;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The ingest role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.INGEST)
@ComponentScan(basePackageClasses = IngestConfiguration.class)
public class IngestConfiguration {
}
