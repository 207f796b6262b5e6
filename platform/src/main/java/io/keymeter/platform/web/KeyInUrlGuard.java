package io.keymeter.platform.web;

import io.keymeter.events.ApiKeys;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
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
        // answered before the token filter, which says it of every answer under /v1
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        Problems.write(request, response, 400, Problems.titleOf(400), DETAIL); // its instance, the path, masked
    }

    /** Whether a raw path or query holds a key, as sent or percent-decoded ({@code km%5F…}, also twice over). */
    static boolean holdsKey(String raw) {
        if (raw == null) {
            return false;
        }
        String decoded = fullyDecoded(raw); // the same string when there is nothing to decode: looked at once
        return ApiKeys.holdsKey(raw) || decoded != raw && ApiKeys.holdsKey(decoded);
    }

    /** The text with a key in it masked (then decoded, as a client reads it); null stays null. */
    static String masked(String raw) {
        return raw == null || !holdsKey(raw) ? raw : ApiKeys.redact(fullyDecoded(raw));
    }

    /** Decoded until nothing changes, three times at most: an escape escaped again ({@code %255F}) is one too. */
    private static String fullyDecoded(String raw) {
        String text = raw;
        for (int round = 0; round < 3; round++) {
            String next = decoded(text);
            if (next.equals(text)) {
                break;
            }
            text = next;
        }
        return text;
    }

    /**
     * Every well-formed {@code %XX} decoded, anything else as it is: one bad escape made a strict decoder give up on
     * the whole string, and a key encoded beside it passed. {@code +} stays a plus (a path's is one).
     */
    static String decoded(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        StringBuilder text = new StringBuilder(raw.length());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(); // a run of escapes: one UTF-8 sequence may span it
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length() && hex(raw.charAt(i + 1)) >= 0 && hex(raw.charAt(i + 2)) >= 0) {
                bytes.write(hex(raw.charAt(i + 1)) * 16 + hex(raw.charAt(i + 2)));
                i += 2;
            } else {
                if (bytes.size() > 0) {
                    text.append(bytes.toString(StandardCharsets.UTF_8));
                    bytes.reset();
                }
                text.append(c);
            }
        }
        return text.append(bytes.toString(StandardCharsets.UTF_8)).toString();
    }

    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
