package io.keymeter.billing.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.testsupport.StandInInstance;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * The owner refusing a forwarded report call (instances with different account tokens or clocks, or of another
 * version) is a 503 for the caller, not the owner's 401, which told a caller with a good token that it was not (the
 * console signs out on a 401). The signing itself is {@code ForwardedCallsTest}'s; here it is stood in for.
 */
class OwnerForwarderTest {

    private StandInInstance owner;

    @BeforeEach
    void start() throws Exception {
        owner = StandInInstance.start().problem("/v1/usage", 401, "not signed for this call");
    }

    @AfterEach
    void stop() {
        owner.close();
    }

    @Test
    void anOwnerRefusingTheForwardedCallIsA503NotA401() {
        ForwardedCalls signing = mock(ForwardedCalls.class);
        when(signing.authorization(any(), any())).thenReturn("Keymeter-Forwarded account=acme, issued=1, signature=x");
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1/usage");
        request.setServletPath("/v1/usage");
        request.setParameter("cycle", "2026-12");

        assertThatThrownBy(() -> new OwnerForwarder(signing).forward(
                new HostInfo("localhost", owner.port()), request))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                    assertThat(problem.status()).isEqualTo(503);
                    assertThat(problem.getMessage()).contains("refused this instance's forwarded call");
                });
    }

    /** Kafka gives an owner advertised by its IPv6 address without brackets: building the URI from it threw (a 500). */
    @Test
    void anOwnerAdvertisedByItsIpv6AddressIsCalled() throws Exception {
        ForwardedCalls signing = mock(ForwardedCalls.class);
        when(signing.authorization(any(), any())).thenReturn("Keymeter-Forwarded account=acme, issued=1, signature=x");
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1/usage");
        request.setServletPath("/v1/usage");
        assumeTrue(StandInInstance.canListenOn("::1"), "this machine has no IPv6 loopback");
        try (StandInInstance ipv6Owner = StandInInstance.startOn("::1")
                .problem("/v1/usage", 503, "starting", "Retry-After", "1")) {
            ResponseEntity<byte[]> answer = new OwnerForwarder(signing).forward(
                    HostInfo.buildFromEndpoint("[::1]:" + ipv6Owner.port()), request);

            assertThat(answer.getStatusCode().value()).isEqualTo(503);
            assertThat(new String(answer.getBody(), StandardCharsets.UTF_8)).contains("starting");
        }
    }
}
