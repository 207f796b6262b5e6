package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;

/** The owner's answer as the caller gets it: a 503 keeps its Retry-After, so the caller knows when to retry. */
class ReadForwarderTest {

    private HttpServer owner;

    @BeforeEach
    void start() throws Exception {
        owner = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
        owner.createContext("/v1/credentials/c1", exchange -> {
            byte[] body = "{\"status\":503,\"detail\":\"starting\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/problem+json");
            exchange.getResponseHeaders().set("Retry-After", "1");
            exchange.sendResponseHeaders(503, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        owner.start();
    }

    @AfterEach
    void stop() {
        owner.stop(0);
    }

    @Test
    void aForwardedUnavailableKeepsItsRetryAfter() {
        ResponseEntity<String> answer = new ReadForwarder().get(new HostInfo("localhost", owner.getAddress().getPort()),
                "/v1/credentials/c1", uri -> "Bearer t");
        assertThat(answer.getStatusCode().value()).isEqualTo(503);
        assertThat(answer.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
        assertThat(answer.getHeaders().getContentType()).hasToString("application/problem+json");
        assertThat(answer.getBody()).contains("starting");
    }
}
