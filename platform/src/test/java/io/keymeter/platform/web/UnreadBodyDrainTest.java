package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.annotation.AnnotationAwareOrderComparator;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

class UnreadBodyDrainTest {

    private final UnreadBodyDrain drain = new UnreadBodyDrain();

    @Test
    void aBodyTheHandlerDidNotReadIsReadToItsEndAfterTheAnswer() throws Exception {
        MockHttpServletRequest request = post(new byte[3 * 1024 * 1024]);
        MockHttpServletResponse response = new MockHttpServletResponse();

        drain.doFilter(request, response, (req, res) -> ((HttpServletResponse) res).setStatus(413));

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(unread(request)).isZero();
    }

    @Test
    void aRestLongerThanTheLimitIsLeftForTheConnectionToClose() throws Exception {
        MockHttpServletRequest request = post(new byte[(int) UnreadBodyDrain.LIMIT + 100_000]);

        drain.doFilter(request, new MockHttpServletResponse(), new MockFilterChain());

        assertThat(unread(request)).isEqualTo(100_000 - 1); // the limit, after the one byte that found a rest
    }

    @Test
    void aBodyTakenAsAReaderIsNotAnError() throws Exception {
        MockHttpServletRequest request = post("{\"a\":1}".getBytes(StandardCharsets.UTF_8));
        MockHttpServletResponse response = new MockHttpServletResponse();

        // the servlet API forbids getInputStream() after getReader(): the drain must not turn that into a 500
        drain.doFilter(request, response, (req, res) -> req.getReader().read());

        assertThat(response.getStatus()).isEqualTo(200);
    }

    @Test
    void theDrainWrapsTheContentTypeGuardSoIts415AlsoHasTheBodyRead() throws Exception {
        // sorted as Spring Boot registers filter beans: by @Order, equal orders kept as listed (guard first)
        List<Filter> filters = new ArrayList<>(List.of(new ContentTypeGuard(), drain));
        AnnotationAwareOrderComparator.sort(filters);
        MockHttpServletRequest request = post(new byte[1024 * 1024]);
        request.setContentType("*/*");
        MockHttpServletResponse response = new MockHttpServletResponse();

        new MockFilterChain(new HttpServlet() { }, filters.toArray(Filter[]::new)).doFilter(request, response);

        assertThat(response.getStatus()).isEqualTo(415);
        assertThat(unread(request)).isZero();
    }

    private static MockHttpServletRequest post(byte[] body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/requests");
        request.setContent(body);
        return request;
    }

    private static int unread(MockHttpServletRequest request) throws IOException {
        return request.getInputStream().readAllBytes().length;
    }
}
