package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.Charset;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers 415 for a request whose Content-Type is not one concrete media type with a known charset. Spring MVC
 * would otherwise fail deep inside request handling (a wildcard type or an unknown charset is an internal error
 * there), and bad input must never be a 500. Runs inside {@link UnreadBodyDrain}, so that the body of a request it
 * refuses is still read after the answer, and after the token filter (order -100, {@code SecurityConfiguration}):
 * a caller without a valid token is answered 401 whatever it sends (it was 415 for a bad Content-Type).
 */
@Component
@Order(-99)
public class ContentTypeGuard extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader(HttpHeaders.CONTENT_TYPE);
        if (header != null && !isConcrete(header)) {
            Problems.write(request, response, 415, "Unsupported media type",
                    "Content-Type must be one concrete media type, such as application/json.");
            return;
        }
        chain.doFilter(request, response);
    }

    static boolean isConcrete(String header) {
        if (header.isBlank()) {
            return false;
        }
        try {
            MediaType type = MediaType.parseMediaType(header);
            if (type.isWildcardType() || type.isWildcardSubtype()) {
                return false;
            }
            String charset = type.getParameter("charset");
            return charset == null || Charset.isSupported(charset.replace("\"", ""));
        } catch (IllegalArgumentException e) { // InvalidMediaTypeException, unknown charset names
            return false;
        }
    }
}
