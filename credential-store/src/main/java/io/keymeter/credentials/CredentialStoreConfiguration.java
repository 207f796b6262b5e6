package io.keymeter.credentials;

import io.keymeter.credentials.lifecycle.ConfiguredAccounts;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.config.CheckedAtStart;
import io.keymeter.platform.config.ConditionalOnRole;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.security.AccessTokens;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.platform.web.AdvertisedAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** The credential-store role: present only when {@code keymeter.roles} enables it. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Role.CREDENTIAL_STORE)
@ComponentScan(basePackageClasses = CredentialStoreConfiguration.class)
public class CredentialStoreConfiguration implements CheckedAtStart {

    /** Bean name of the credential store's Kafka Streams application (several roles define a {@link StreamsApp}). */
    public static final String STREAMS = "credentialStoreStreams";

    /**
     * Bean name of the credential store's {@link RunningPartitions}: the partitions whose task runs here, restored
     * and initialized, the only ones the HTTP reads answer from.
     */
    public static final String RUNNING_PARTITIONS = "credentialStoreRunningPartitions";

    /** Host other instances forward reads to; default: this machine's host name. */
    public static final String ADVERTISED_HOST = AdvertisedAddress.HOST;

    /**
     * Commit interval of the credential store's exactly-once transactions, default 0: commit as soon as a poll's
     * commands are processed ({@link CredentialTopology#OVERRIDES}). Its own property because the topology's
     * overrides win over {@code spring.kafka.streams.properties.*} and {@code keymeter.streams.commit-interval}. Every reply waits for
     * its commit, so a longer interval slows every change (crash tests use it to keep transactions open).
     */
    public static final String COMMIT_INTERVAL = "keymeter.credentials.commit-interval";

    /** Made before the broker starts ({@link CheckedAtStart}): a refused commit interval says so at once. */
    CredentialStoreConfiguration(Environment environment) {
        commitInterval(environment);
    }

    @Bean(RUNNING_PARTITIONS)
    RunningPartitions credentialStoreRunningPartitions() {
        return new RunningPartitions();
    }

    @Bean(STREAMS)
    StreamsApp credentialStoreStreams(StreamsFactory factory, KeymeterProperties properties, Environment environment,
                                      @Qualifier(RUNNING_PARTITIONS) RunningPartitions running, AccessTokens tokens,
                                      Clock clock) {
        return factory.create(CredentialTopology.APP_NAME, topology(properties, running, tokens, clock).build(),
                streamsOverrides(environment, factory.operatorGaveApplicationServer()));
    }

    /** The topology, told which accounts have a token here: a task warns of active keys of any other. */
    static CredentialTopology topology(KeymeterProperties properties, RunningPartitions running, AccessTokens tokens,
                                       Clock clock) {
        return new CredentialTopology(properties.keys().expiringNotice(), properties.keys().forgetAfter(), running,
                new ConfiguredAccounts(tokens.accountIds(), clock));
    }

    static Map<String, Object> streamsOverrides(Environment environment) {
        return streamsOverrides(environment, false);
    }

    /**
     * The topology's own settings, then the commit interval and this instance's HTTP address from the environment,
     * unless the operator gave one ({@code application.server} in {@code spring.kafka.streams.properties} or another
     * place {@code StreamsFactory.operatorGaveApplicationServer} reads, as billing takes it):
     * the derived address replaced it.
     */
    static Map<String, Object> streamsOverrides(Environment environment, boolean operatorServer) {
        Map<String, Object> overrides = new HashMap<>(CredentialTopology.OVERRIDES);
        Duration commitInterval = commitInterval(environment);
        if (commitInterval != null) {
            overrides.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        }
        // where this instance answers HTTP: reads of credentials owned by another instance are forwarded there
        if (!operatorServer) {
            AdvertisedAddress.of(environment).ifPresent(address ->
                    overrides.put(StreamsConfig.APPLICATION_SERVER_CONFIG, address));
        }
        return overrides;
    }

    private static Duration commitInterval(Environment environment) {
        Duration commitInterval = environment.getProperty(COMMIT_INTERVAL, Duration.class);
        if (commitInterval != null && commitInterval.isNegative()) {
            throw new IllegalArgumentException(COMMIT_INTERVAL + " must not be negative, was " + commitInterval);
        }
        return commitInterval;
    }
}
