package io.keymeter.credentials;

import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The credential-store role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.CREDENTIAL_STORE)
@ComponentScan(basePackageClasses = CredentialStoreConfiguration.class)
public class CredentialStoreConfiguration {

    /** Bean name of the credential store's Kafka Streams application (several roles define a {@link StreamsApp}). */
    public static final String STREAMS = "credentialStoreStreams";

    @Bean(STREAMS)
    StreamsApp credentialStoreStreams(StreamsFactory factory, KeymeterProperties properties) {
        CredentialTopology topology = new CredentialTopology(properties.keys().expiringNotice());
        return factory.create(CredentialTopology.APP_NAME, topology.build(), CredentialTopology.OVERRIDES);
    }
}
