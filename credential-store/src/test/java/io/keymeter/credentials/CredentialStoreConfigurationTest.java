package io.keymeter.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.security.AccessTokens;
import io.keymeter.platform.streams.RunningPartitions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.mock.env.MockEnvironment;

class CredentialStoreConfigurationTest {

    @Test
    void byDefaultTheStoreCommitsAsSoonAsAPollsCommandsAreProcessed() {
        assertThat(CredentialStoreConfiguration.streamsOverrides(environment()))
                .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 0)
                .containsEntry(StreamsConfig.POLL_MS_CONFIG, 10);
    }

    @Test
    void theCommitIntervalPropertyTakesZeroOrMoreAndRefusesANegativeValue() {
        assertThat(CredentialStoreConfiguration.streamsOverrides(
                environment().withProperty(CredentialStoreConfiguration.COMMIT_INTERVAL, "PT1S")))
                .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000L);
        assertThat(CredentialStoreConfiguration.streamsOverrides(
                environment().withProperty(CredentialStoreConfiguration.COMMIT_INTERVAL, "PT0S")))
                .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 0L);
        assertThatThrownBy(() -> CredentialStoreConfiguration.streamsOverrides(
                environment().withProperty(CredentialStoreConfiguration.COMMIT_INTERVAL, "-PT1S")))
                .hasMessageContaining("keymeter.credentials.commit-interval must not be negative");
    }

    @Test
    void aFixedPortIsAdvertisedSoReadsCanBeForwardedHere() {
        assertThat(CredentialStoreConfiguration.streamsOverrides(environment()
                .withProperty("server.port", "8085")
                .withProperty(CredentialStoreConfiguration.ADVERTISED_HOST, "node-a")))
                .containsEntry(StreamsConfig.APPLICATION_SERVER_CONFIG, "node-a:8085");
        assertThat(CredentialStoreConfiguration.streamsOverrides(environment().withProperty("server.port", "0")))
                .doesNotContainKey(StreamsConfig.APPLICATION_SERVER_CONFIG);
        // the operator's own (spring.kafka.streams.properties[application.server]) is left to apply
        assertThat(CredentialStoreConfiguration.streamsOverrides(environment().withProperty("server.port", "8085"), true))
                .doesNotContainKey(StreamsConfig.APPLICATION_SERVER_CONFIG);
    }

    /** The topology checks stored credentials against the accounts that have a token (a removed one is warned of). */
    @Test
    void theTopologyKnowsTheConfiguredAccounts(@TempDir Path dir) {
        Map<String, String> values = new HashMap<>();
        values.put("keymeter.data-dir", dir.toString());
        values.put("keymeter.accounts[0].id", "acme");
        values.put("keymeter.accounts[0].token", "kmacct_" + "a".repeat(40));
        values.put("keymeter.accounts[1].id", "globex");
        values.put("keymeter.accounts[1].token", "kmacct_" + "g".repeat(40));
        values.put("keymeter.gateway-tokens[0]", "kmgw_" + "w".repeat(40));
        KeymeterProperties properties = new Binder(new MapConfigurationPropertySource(values))
                .bindOrCreate("keymeter", KeymeterProperties.class);

        Clock clock = Clock.systemUTC();
        assertThat(CredentialStoreConfiguration.topology(properties, new RunningPartitions(),
                new AccessTokens(properties), clock).accounts()).satisfies(accounts -> {
                    assertThat(accounts.ids()).containsExactlyInAnyOrder("acme", "globex");
                    assertThat(accounts.clock()).isSameAs(clock);
                });
    }

    /** An environment converting values as the application's does ({@code PT1S} to a Duration). */
    private static MockEnvironment environment() {
        MockEnvironment environment = new MockEnvironment();
        environment.setConversionService(new ApplicationConversionService());
        return environment;
    }
}
