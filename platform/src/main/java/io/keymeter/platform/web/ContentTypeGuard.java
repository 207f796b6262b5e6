package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.Charset;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers 415 for a request whose Content-Type is not one concrete media type with a known charset, and 400 for
 * one given twice. Spring MVC would otherwise fail deep inside request handling (a wildcard type or an unknown
 * charset is an internal error there), and bad input must never be a 500; and of two Content-Types, or two
 * charsets in one, one was taken silently (a UTF-8 batch declared {@code charset=utf-8; charset=utf-16} read as
 * UTF-16, its lines refused behind a 202). Runs inside {@link UnreadBodyDrain}, so that the body of a request it
 * refuses is still read after the answer, and after the token filter (order -100, {@code SecurityConfiguration}):
 * a caller without a valid token is answered 401 whatever it sends (it was 415 for a bad Content-Type).
 */
@Component
@Order(-99)
public class ContentTypeGuard extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        List<String> headers = Collections.list(request.getHeaders(HttpHeaders.CONTENT_TYPE));
        if (headers.size() > 1) {
            Problems.write(request, response, 400, "Bad request", "Content-Type is given more than once; send it once.");
            return;
        }
        Optional<String> refusal = headers.isEmpty() ? Optional.empty() : refusal(headers.get(0));
        if (refusal.isPresent()) {
            Problems.write(request, response, 415, "Unsupported media type", refusal.get());
            return;
        }
        chain.doFilter(request, response);
    }

    /** Why a Content-Type cannot be read, if it cannot. */
    static Optional<String> refusal(String header) {
        Parameters parameters = Parameters.of(header);
        if (parameters.repeated().isPresent()) {
            return Optional.of("Content-Type gives its parameter '" + parameters.repeated().get()
                    + "' more than once; give it once.");
        }
        String charset = parameters.values().get("charset");
        if (charset != null && !isSupported(charset)) { // checked first: Spring's parser says only "invalid"
            return Optional.of("Content-Type names the charset '" + charset
                    + "', which this server does not know; send UTF-8, or name another such as UTF-16.");
        }
        try {
            MediaType type = MediaType.parseMediaType(header);
            if (!header.isBlank() && !type.isWildcardType() && !type.isWildcardSubtype()) {
                return Optional.empty();
            }
        } catch (IllegalArgumentException e) { // InvalidMediaTypeException
            // refused below
        }
        return Optional.of("Content-Type must be one concrete media type, such as application/json.");
    }

    private static boolean isSupported(String charset) {
        try {
            return Charset.isSupported(charset);
        } catch (IllegalArgumentException e) { // an empty or illegal name
            return false;
        }
    }

    /**
     * A type's parameters (split at {@code ;} outside quoted strings, names in lower case, values unquoted; the first
     * of a name kept) and the name of one given twice, which RFC 6838 §4.3 calls an error: Spring keeps the last, a
     * proxy may read the first.
     */
    record Parameters(Map<String, String> values, Optional<String> repeated) {

        static Parameters of(String header) {
            Map<String, String> values = new HashMap<>();
            Optional<String> repeated = Optional.empty();
            int start = header.indexOf(';');
            boolean quoted = false;
            for (int i = start + 1; start >= 0 && i <= header.length(); i++) {
                char c = i < header.length() ? header.charAt(i) : ';';
                if (c == '"' && header.charAt(i - 1) != '\\') {
                    quoted = !quoted;
                } else if (c == ';' && !quoted) {
                    String parameter = header.substring(start + 1, i);
                    int equals = parameter.indexOf('=');
                    String name = (equals < 0 ? parameter : parameter.substring(0, equals)).trim()
                            .toLowerCase(Locale.ROOT);
                    String value = equals < 0 ? "" : parameter.substring(equals + 1).trim().replace("\"", "");
                    if (!name.isEmpty() && values.putIfAbsent(name, value) != null && repeated.isEmpty()) {
                        repeated = Optional.of(name);
                    }
                    start = i;
                }
            }
            return new Parameters(Map.copyOf(values), repeated);
        }
    }
}
