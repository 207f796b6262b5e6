package io.keymeter.billing;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The billing-report role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.BILLING_REPORT)
@ComponentScan(basePackageClasses = BillingConfiguration.class)
public class BillingConfiguration {
}
