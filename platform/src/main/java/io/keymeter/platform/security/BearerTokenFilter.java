package io.keymeter.platform.security;

import io.keymeter.platform.web.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards {@code /v1/**}: gateway calls ({@code /v1/requests}, {@code /v1/verify}) need a gateway token, every other
 * call an account token, which becomes the request's {@link Account}. Missing or wrong token: 401.
 * <p>
 * Paths are compared as the servlet container and Spring route them: decoded, without path parameters, dot segments
 * resolved ({@link #routedPath}). The raw request URI let {@code /v1;x/requests} or {@code /%76%31/requests} past
 * the check while Spring still routed them to the controller.
 */
public class BearerTokenFilter extends OncePerRequestFilter {

    static final Set<String> GATEWAY_PATHS = Set.of("/v1/requests", "/v1/verify");

    private final AccessTokens tokens;

    public BearerTokenFilter(AccessTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = routedPath(request);
        return !(path.equals("/v1") || path.startsWith("/v1/"));
    }

    /** The path within the application that requests are routed by: the servlet path plus the path info. */
    static String routedPath(HttpServletRequest request) {
        String pathInfo = request.getPathInfo();
        return pathInfo == null ? request.getServletPath() : request.getServletPath() + pathInfo;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = routedPath(request);
        String token = bearer(request.getHeader(HttpHeaders.AUTHORIZATION));
        if (token != null && GATEWAY_PATHS.contains(path)) {
            if (tokens.isGateway(token)) {
                chain.doFilter(request, response);
                return;
            }
        } else if (token != null) {
            var account = tokens.account(token);
            if (account.isPresent()) {
                request.setAttribute(Account.ATTRIBUTE, account.get());
                chain.doFilter(request, response);
                return;
            }
        }
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        Problems.write(response, 401, "Unauthorized", GATEWAY_PATHS.contains(path)
                ? "This call needs 'Authorization: Bearer <gateway token>'."
                : "This call needs 'Authorization: Bearer <account token>'.");
    }

    private static String bearer(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
