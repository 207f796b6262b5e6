package io.keymeter.console;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The console role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.CONSOLE)
@ComponentScan(basePackageClasses = ConsoleConfiguration.class)
public class ConsoleConfiguration {
}
