package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keymeter.platform.web.ApiProblem;
import io.keymeter.testsupport.StandInInstance;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;

/** The owner's answer as the caller gets it: a 503 keeps its Retry-After, so the caller knows when to retry. */
class ReadForwarderTest {

    private StandInInstance owner;

    @BeforeEach
    void start() throws Exception {
        owner = StandInInstance.start()
                .problem("/v1/credentials/c1", 503, "starting", "Retry-After", "1")
                .problem("/v1/credentials/refused", 401, "not signed for this call");
    }

    @AfterEach
    void stop() {
        owner.close();
    }

    /**
     * The owner refusing a forwarded call (instances with different account tokens or clocks, or of another version)
     * is a 503 for the caller, not the owner's 401, which told a caller with a good token that it was not (the
     * console signed out on it).
     */
    @Test
    void anOwnerRefusingTheForwardedCallIsA503NotA401() {
        HostInfo host = new HostInfo("localhost", owner.port());
        for (var call : List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
                () -> new ReadForwarder().get(host, "/v1/credentials/refused", uri -> "Keymeter-Forwarded x",
                        Optional.empty()),
                () -> new ReadForwarder().getList(host, "/v1/credentials/refused", uri -> "Keymeter-Forwarded x"))) {
            assertThatThrownBy(call).isInstanceOfSatisfying(ApiProblem.class, problem -> {
                assertThat(problem.status()).isEqualTo(503);
                assertThat(problem.getMessage()).contains("refused this instance's forwarded call");
            });
        }
    }

    @Test
    void aForwardedUnavailableKeepsItsRetryAfter() {
        ResponseEntity<String> answer = new ReadForwarder().get(new HostInfo("localhost", owner.port()),
                "/v1/credentials/c1", uri -> "Bearer t", Optional.empty());
        assertThat(answer.getStatusCode().value()).isEqualTo(503);
        assertThat(answer.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
        assertThat(answer.getHeaders().getContentType()).hasToString("application/problem+json");
        assertThat(answer.getBody()).contains("starting");
    }

    /** Kafka gives an owner advertised by its IPv6 address without brackets: the URI built from it had no host. */
    @Test
    void anOwnerAdvertisedByItsIpv6AddressIsCalled() throws Exception {
        assumeTrue(StandInInstance.canListenOn("::1"), "this machine has no IPv6 loopback");
        try (StandInInstance ipv6Owner = StandInInstance.startOn("::1")
                .problem("/v1/credentials/c1", 503, "starting", "Retry-After", "1")) {
            ResponseEntity<String> answer = new ReadForwarder().get(
                    HostInfo.buildFromEndpoint("[::1]:" + ipv6Owner.port()), "/v1/credentials/c1", uri -> "Bearer t",
                    Optional.empty());

            assertThat(answer.getStatusCode().value()).isEqualTo(503);
            assertThat(answer.getBody()).contains("starting");
        }
    }
}
