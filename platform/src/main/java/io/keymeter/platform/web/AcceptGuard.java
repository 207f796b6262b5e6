package io.keymeter.platform.web;

import io.keymeter.platform.security.BearerTokenFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.Charset;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.core.JsonEncoding;

/**
 * Answers 406 before a call that changes something runs, when its Accept header allows no JSON answer. Spring MVC
 * negotiates the answer's type only when it writes it, after the controller: {@code Accept: text/csv} on a key's
 * generation made the key, then answered 406, and the only copy of its secret was lost (a regeneration killed the
 * working key too; a retried create made a second credential). Reads keep Spring's own 406, which changes nothing.
 */
@Component
@Order(-97)
public class AcceptGuard extends OncePerRequestFilter {

    /**
     * The charsets Spring's Jackson converter writes JSON in: Jackson's encodings and US-ASCII (as UTF-8). Not
     * "UTF-16" or "UTF-32" without a byte order: with those the change ran and then the answer was Spring's 406.
     */
    private static final Set<String> JSON_CHARSETS = Stream.concat(Stream.of("US-ASCII"),
            Arrays.stream(JsonEncoding.values()).map(JsonEncoding::getJavaName)).collect(Collectors.toUnmodifiableSet());
    private static final Set<String> CHANGING = Set.of("POST", "PUT", "PATCH");

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        // by both views of the path: judged by the raw URI, /v1;x/credentials went past the guard to the controller
        return !CHANGING.contains(request.getMethod()) || !BearerTokenFilter.isApiCall(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        List<String> accept = Collections.list(request.getHeaders(HttpHeaders.ACCEPT));
        if (!accept.isEmpty() && !allowsJson(accept)) {
            Problems.write(request, response, 406, "Not acceptable", "This call answers application/json (UTF-8;"
                    + " or UTF-16BE/LE, UTF-32BE/LE), which the Accept header does not allow; nothing was done.");
            return;
        }
        chain.doFilter(request, response);
    }

    /** As Spring negotiates: an empty header allows anything, and its JSON converter writes any {@code +json} type. */
    static boolean allowsJson(List<String> accept) {
        List<MediaType> types;
        try {
            types = MediaType.parseMediaTypes(accept);
        } catch (InvalidMediaTypeException e) {
            return false;
        }
        return types.isEmpty() || types.stream().anyMatch(type -> type.getQualityValue() > 0
                && (type.isCompatibleWith(MediaType.APPLICATION_JSON) || "json".equals(type.getSubtypeSuffix()))
                && writableCharset(type));
    }

    private static boolean writableCharset(MediaType type) {
        String charset = type.getParameter("charset");
        if (charset == null) {
            return true;
        }
        try {
            return JSON_CHARSETS.contains(Charset.forName(charset.replace("\"", "")).name().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) { // unknown or illegal charset names
            return false;
        }
    }
}
