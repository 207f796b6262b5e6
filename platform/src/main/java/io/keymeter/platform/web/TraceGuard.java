package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses TRACE with a 405 problem. The servlet default echoes the request back: Jetty leaves out
 * {@code Authorization} and {@code Cookie}, but every other header, a proxy's included, is returned, and security
 * scanners report an answering TRACE as cross-site tracing. Nothing in Keymeter uses it. Spring's own dispatch of
 * TRACE is no answer: it writes its 405 and then the servlet's echo after it. (TRACK, unknown to the servlet, already
 * gets Spring's 405.)
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2) // after KeyInUrlGuard: its 405 names the path
public class TraceGuard extends OncePerRequestFilter {

    /** What the API and the console answer to (a 405 must list what is allowed; this is the union). */
    static final String ALLOWED = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if ("TRACE".equals(request.getMethod())) {
            response.setHeader(HttpHeaders.ALLOW, ALLOWED);
            // answered before the token filter, which says it of every answer under /v1
            response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
            Problems.write(request, response, 405, Problems.titleOf(405), "TRACE is not supported.");
            return;
        }
        chain.doFilter(request, response);
    }
}
