package io.keymeter.platform.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.StartupRefusedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.mock.env.MockEnvironment;

class StartupChecksTest {

    private final StaticListableBeanFactory beans = new StaticListableBeanFactory();

    /** {@code keymeter.streams.threads=} started on the default without a word. */
    @ParameterizedTest
    @FieldSource("io.keymeter.platform.config.StartupChecks#NOT_EMPTY")
    void aSettingWithADefaultGivenEmptyIsRefusedNamingIt(String name) {
        MockEnvironment environment = new MockEnvironment().withProperty(name, " ");

        assertThatThrownBy(() -> new StartupChecks(environment, beans.getBeanProvider(CheckedAtStart.class)))
                .isInstanceOf(StartupRefusedException.class).hasMessageStartingWith(name + " is empty. Give it a value");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "all", "./data"})
    void aSettingGivenIsTaken(String value) {
        MockEnvironment environment = new MockEnvironment().withProperty("keymeter.streams.threads", value)
                .withProperty("keymeter.roles", value).withProperty("keymeter.data-dir", value);

        assertThatCode(() -> new StartupChecks(environment, beans.getBeanProvider(CheckedAtStart.class)))
                .doesNotThrowAnyException();
    }
}
