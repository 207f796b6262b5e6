package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.web.AdvertisedAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.mock.env.MockEnvironment;

class StartupChecksTest {

    private final StaticListableBeanFactory beans = new StaticListableBeanFactory();

    /** {@code keymeter.streams.threads=} started on the default without a word. */
    @ParameterizedTest
    @FieldSource("io.keymeter.platform.config.StartupChecks#NOT_EMPTY")
    void aSettingWithADefaultGivenEmptyIsRefusedNamingIt(String name) {
        MockEnvironment environment = new MockEnvironment().withProperty(name, " ");

        assertThatThrownBy(() -> new StartupChecks(environment, beans.getBeanProvider(CheckedAtStart.class),
                beans.getBeanProvider(KafkaProperties.class)))
                .isInstanceOf(StartupRefusedException.class).hasMessageStartingWith(name + " is empty. Give it a value");
    }

    /** Kafka Streams takes {@code [fe80::1%eth0]:8080}, and the URL built from it threw: every forwarded read a 500. */
    @Test
    void anAdvertisedHostWithAnIpv6ZoneIsRefused() {
        MockEnvironment environment = new MockEnvironment().withProperty(AdvertisedAddress.HOST, "fe80::1%eth0");

        assertThatThrownBy(() -> new StartupChecks(environment, beans.getBeanProvider(CheckedAtStart.class),
                beans.getBeanProvider(KafkaProperties.class)))
                .isInstanceOf(StartupRefusedException.class)
                .hasMessageStartingWith("keymeter.credentials.advertised-host fe80::1%eth0 names an IPv6 zone");
        assertThatCode(() -> new StartupChecks(new MockEnvironment().withProperty(AdvertisedAddress.HOST,
                "fd00::5"), beans.getBeanProvider(CheckedAtStart.class),
                beans.getBeanProvider(KafkaProperties.class))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "all", "./data"})
    void aSettingGivenIsTaken(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.streams.threads", value)
                .withProperty("keymeter.roles", value).withProperty("keymeter.data-dir", value);

        assertThatCode(() -> new StartupChecks(environment, beans.getBeanProvider(CheckedAtStart.class),
                beans.getBeanProvider(KafkaProperties.class)))
                .doesNotThrowAnyException();
    }
}
