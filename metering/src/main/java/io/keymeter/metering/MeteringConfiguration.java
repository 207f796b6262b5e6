package io.keymeter.metering;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The metering role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.METERING)
@ComponentScan(basePackageClasses = MeteringConfiguration.class)
public class MeteringConfiguration {
}
