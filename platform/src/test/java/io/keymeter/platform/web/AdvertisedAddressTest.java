package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class AdvertisedAddressTest {

    @Test
    void anIpv6HostIsAdvertisedInBracketsAndReadBackBare() {
        MockEnvironment environment = new MockEnvironment().withProperty(AdvertisedAddress.HOST, "fd00::5");

        String server = AdvertisedAddress.of(environment).orElseThrow();
        HostInfo owner = HostInfo.buildFromEndpoint(server);

        assertThat(server).isEqualTo("[fd00::5]:8080");
        assertThat(owner.host()).isEqualTo("fd00::5");
        assertThat(AdvertisedAddress.uriHost(owner.host())).isEqualTo("[fd00::5]");
    }

    @Test
    void namesAndIpv4AddressesAndBracketedHostsStayAsGiven() {
        assertThat(AdvertisedAddress.uriHost("metering-1.internal")).isEqualTo("metering-1.internal");
        assertThat(AdvertisedAddress.uriHost("10.0.0.7")).isEqualTo("10.0.0.7");
        assertThat(AdvertisedAddress.uriHost("[fd00::5]")).isEqualTo("[fd00::5]");
        assertThat(AdvertisedAddress.of(new MockEnvironment().withProperty(AdvertisedAddress.HOST, "[fd00::5]")
                .withProperty("server.port", "9000"))).contains("[fd00::5]:9000");
    }
}
