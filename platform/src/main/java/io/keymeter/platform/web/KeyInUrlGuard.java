package io.keymeter.platform.web;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.Json;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses a request whose path or query holds an API key with 400, before Spring's dispatcher logs its URL (at
 * DEBUG, query included) and before any problem echoes its path. No call of Keymeter's takes a key in its URL:
 * verify and ingest take it in the body, where it is hashed or masked.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
public class KeyInUrlGuard extends OncePerRequestFilter {

    static final String DETAIL = "The URL holds an API key: Keymeter takes keys in request bodies only, as URLs are"
            + " logged (by proxies in front, and by Spring at DEBUG).";

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI();
        if (!holdsKey(path) && !holdsKey(request.getQueryString())) {
            chain.doFilter(request, response);
            return;
        }
        ProblemDetail problem = Problems.of(400, Problems.titleOf(400), DETAIL, List.of());
        Problems.withInstance(problem, ApiKeys.redact(decoded(path))); // the path without the key, as a client reads it
        // answered before the token filter, which says it of every answer under /v1
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setStatus(400);
        response.setContentType(Problems.MEDIA_TYPE);
        Json.mapper().writeValue(response.getOutputStream(), problem);
    }

    /** Whether a raw path or query holds a key, as sent or percent-decoded ({@code km%5F…}). */
    static boolean holdsKey(String raw) {
        return raw != null && (ApiKeys.holdsKey(raw) || ApiKeys.holdsKey(decoded(raw)));
    }

    /**
     * Every well-formed {@code %XX} decoded, anything else as it is: one bad escape made a strict decoder give up on
     * the whole string, and a key encoded beside it passed. {@code +} stays a plus (a path's is one).
     */
    static String decoded(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            int high = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
            int low = high >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
            if (c == '%' && low >= 0) {
                bytes.write(high * 16 + low);
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
