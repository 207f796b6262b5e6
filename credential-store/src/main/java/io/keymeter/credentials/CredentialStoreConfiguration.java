package io.keymeter.credentials;

import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.Role;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The credential-store role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.CREDENTIAL_STORE)
@ComponentScan(basePackageClasses = CredentialStoreConfiguration.class)
public class CredentialStoreConfiguration {
}
