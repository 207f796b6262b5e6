package io.keymeter.platform.security;

import io.keymeter.platform.web.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.filter.ServerHttpObservationFilter;

/**
 * Guards {@code /v1/**}: gateway calls ({@code /v1/requests}, {@code /v1/verify}) need a gateway token, the privilege
 * catalog takes either kind, every other call an account token, which becomes the request's {@link Account}, or a
 * read another instance forwards, signed for the caller's account ({@link ForwardedCalls}). Missing or wrong token
 * or signature: 401.
 * <p>
 * A call is guarded when either view of its path is under {@code /v1}: the servlet container's ({@link #routedPath}:
 * decoded, without path parameters, dot segments resolved) or the request URI's, decoded ({@link #rawPath}), which
 * is what Spring routes by (path parameters dropped, dot segments kept). Judged by the raw URI alone,
 * {@code /v1;x/requests} or {@code /%76%31/requests} went past the check while Spring still routed them to the
 * controller. Which token is needed follows the routed path. Every answer under {@code /v1} carries
 * {@code Cache-Control: no-store}: a generated key's plaintext, shown once, must not stay in a proxy or browser cache.
 */
public class BearerTokenFilter extends OncePerRequestFilter {

    static final Set<String> GATEWAY_PATHS = Set.of("/v1/requests", "/v1/verify");
    /**
     * The privilege catalog is the same for every account and is what a gateway needs to enforce privileges from a
     * cache of {@code keymeter.api-keys}, whose states name privileges, not services: a gateway token may read it.
     */
    static final String CATALOG_PATH = "/v1/privileges";
    /** Marks a call one instance forwarded to another, so that it is answered there and never forwarded again. */
    public static final String FORWARDED = "X-Keymeter-Forwarded";

    private final AccessTokens tokens;
    private final ForwardedCalls forwardedCalls;

    public BearerTokenFilter(AccessTokens tokens, ForwardedCalls forwardedCalls) {
        this.tokens = tokens;
        this.forwardedCalls = forwardedCalls;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !isApiCall(request);
    }

    /**
     * Whether either view of the call's path is under {@code /v1} (see above): what a guard of the API decides by, so
     * that {@code /v1;x/…} or {@code /%76%31/…}, which Spring routes to the same controllers, are guarded too.
     */
    public static boolean isApiCall(HttpServletRequest request) {
        return isApi(routedPath(request)) || isApi(rawPath(request));
    }

    private static boolean isApi(String path) {
        return path.equals("/v1") || path.startsWith("/v1/") || path.startsWith("/v1;");
    }

    /** The request URI within the application, percent-decoded (path parameters and dot segments left in). */
    static String rawPath(HttpServletRequest request) {
        String raw = request.getRequestURI().substring(request.getContextPath().length());
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw; // a malformed escape: Jetty refuses such a URI before any filter
        }
    }

    /** The path within the application that requests are routed by: the servlet path plus the path info. */
    public static String routedPath(HttpServletRequest request) {
        String pathInfo = request.getPathInfo();
        return pathInfo == null ? request.getServletPath() : request.getServletPath() + pathInfo;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // every answer here is one account's (a new key's plaintext, credentials, usage, bills): never cached
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store"); // nosniff: SecurityConfiguration's, on every answer
        String path = routedPath(request);
        if (GATEWAY_PATHS.contains(path)) {
            // a gateway call refused before a handler is chosen (401 here, a 415 of its media type) was counted under
            // uri="UNKNOWN" in http_server_requests; these two paths are fixed, so naming them costs no cardinality
            ServerHttpObservationFilter.findObservationContext(request).ifPresent(c -> c.setPathPattern(path));
        }
        if (Collections.list(request.getHeaders(HttpHeaders.AUTHORIZATION)).size() > 1) {
            // the first was taken: a proxy that checks or rewrites the last one could be led to another tenant's token
            Problems.write(request, response, 400, "Invalid request",
                    "Authorization is given more than once; send it once.");
            return;
        }
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        String token = credentials(authorization, "Bearer");
        String forwarded = credentials(authorization, ForwardedCalls.SCHEME);
        if (token != null && GATEWAY_PATHS.contains(path)) {
            if (tokens.isGateway(token)) {
                chain.doFilter(request, response);
                return;
            }
        } else if (token != null && CATALOG_PATH.equals(path) && "GET".equals(request.getMethod())
                && tokens.isGateway(token)) {
            chain.doFilter(request, response);
            return;
        } else if (token != null) {
            byte[] digest = Tokens.digest(token);
            var account = tokens.accountOfDigest(digest);
            if (account.isPresent()) {
                authenticated(request, account.get(), digest);
                chain.doFilter(withoutForwardedMarker(request), response);
                return;
            }
        } else if (forwarded != null && !GATEWAY_PATHS.contains(path) && request.getHeader(FORWARDED) != null) {
            // the path as the forwarding instance addressed it: within the application, like the paths it signs
            String uri = request.getRequestURI().substring(request.getContextPath().length());
            var signed = forwardedCalls.authenticate(forwarded, request.getMethod(), uri, request.getQueryString());
            if (signed.isPresent()) {
                authenticated(request, signed.get().account(), signed.get().key());
                chain.doFilter(request, response);
                return;
            }
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
            Problems.write(request, response, 401, "Unauthorized", "A call forwarded by another Keymeter instance was "
                    + "not signed for this call by a token this instance knows, or was signed more than "
                    + ForwardedCalls.VALID_FOR.toSeconds() + " s away from this instance's clock: every instance needs "
                    + "the same account tokens (keymeter.accounts, or one demo-token shared) and clocks in step.");
            return;
        }
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        Problems.write(request, response, 401, "Unauthorized", GATEWAY_PATHS.contains(path)
                ? "This call needs 'Authorization: Bearer <gateway token>'."
                : token != null && tokens.isGateway(token)
                // a gateway posting to /v1/requests/ or /V1/requests was told it needed an account token
                ? "A gateway token is good for POST /v1/requests and /v1/verify and GET /v1/privileges only, written "
                        + "exactly so; this call needs 'Authorization: Bearer <account token>'."
                : "This call needs 'Authorization: Bearer <account token>'.");
    }

    /**
     * A caller's call is never taken as forwarded: marked so, a list was answered from this instance's partitions
     * alone (200, part of the caller's credentials) and a read another instance owns was a 503. The marker counts on
     * signed calls only, which only the forwarders send.
     */
    private static HttpServletRequest withoutForwardedMarker(HttpServletRequest request) {
        if (request.getHeader(FORWARDED) == null) {
            return request;
        }
        return new HttpServletRequestWrapper(request) {
            @Override
            public String getHeader(String name) {
                return FORWARDED.equalsIgnoreCase(name) ? null : super.getHeader(name);
            }

            @Override
            public Enumeration<String> getHeaders(String name) {
                return FORWARDED.equalsIgnoreCase(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
            }

            @Override
            public Enumeration<String> getHeaderNames() {
                return Collections.enumeration(Collections.list(super.getHeaderNames()).stream()
                        .filter(name -> !FORWARDED.equalsIgnoreCase(name)).toList());
            }
        };
    }

    private static void authenticated(HttpServletRequest request, Account account, byte[] key) {
        request.setAttribute(Account.ATTRIBUTE, account);
        request.setAttribute(ForwardedCalls.KEY_ATTRIBUTE, key);
    }

    /** What follows {@code scheme} in an Authorization header, or null when it is another scheme or empty. */
    private static String credentials(String header, String scheme) {
        int length = scheme.length() + 1;
        if (header == null || !header.regionMatches(true, 0, scheme + " ", 0, length)) {
            return null;
        }
        String credentials = header.substring(length).trim();
        return credentials.isEmpty() ? null : credentials;
    }
}
