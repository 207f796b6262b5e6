package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Reads and discards what is left of a request body once the request is answered, up to {@link #LIMIT} bytes.
 * <p>
 * An answer given before the body was read (a 413 for a batch over 16 MiB, a 401 without a token) would otherwise
 * make the server close the connection with the body's rest unread, and the kernel then resets it: a client that
 * sends its whole body before reading the answer, as most do, gets a broken connection instead of the problem
 * document. Larger rests are left unread and the connection is closed, so one request cannot hold a thread
 * forever. The outermost filter, so that it also drains after the early answers of the filters inside it (the 415 of
 * {@link ContentTypeGuard}, the 401 of the token filter).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class UnreadBodyDrain extends OncePerRequestFilter {

    /** Twice the largest body any endpoint takes (ingest's 16 MiB): such a batch still gets its 413. */
    static final long LIMIT = 32L * 1024 * 1024;

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        } finally {
            drain(request);
        }
    }

    private static void drain(HttpServletRequest request) {
        try {
            InputStream body = request.getInputStream();
            if (body.read() < 0) {
                return; // nearly always: the handler read the body, or there was none
            }
            byte[] buffer = new byte[8192];
            long left = LIMIT;
            int read;
            while (left > 0 && (read = body.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
                left -= read;
            }
        } catch (IOException | IllegalStateException e) {
            // the client went away, or the body was taken as a reader: nothing to drain
        }
    }
}
