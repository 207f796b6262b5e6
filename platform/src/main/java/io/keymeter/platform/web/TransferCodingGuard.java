package io.keymeter.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers 501 for a request whose Transfer-Encoding lists a coding other than {@code chunked}, as RFC 9112 §6.1 asks
 * of a server that does not implement it. Jetty takes the chunked framing and passes the rest by, so a body sent as
 * {@code Transfer-Encoding: gzip, chunked} reached ingest still compressed and its bytes were read as lines, each
 * refused behind a 202. (Compression of a batch is {@code Content-Encoding: gzip}.) After the token filter, like
 * {@link ContentTypeGuard}, and inside {@link UnreadBodyDrain}, which reads the refused body by its chunks.
 */
@Component
@Order(-99)
public class TransferCodingGuard extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Optional<String> other = otherThanChunked(Collections.list(request.getHeaders(HttpHeaders.TRANSFER_ENCODING)));
        if (other.isPresent()) {
            Problems.write(request, response, 501, "Not implemented", "Transfer-Encoding '" + other.get()
                    + "' is not implemented: only chunked is (a compressed body is sent with Content-Encoding: gzip);"
                    + " nothing was done.");
            return;
        }
        chain.doFilter(request, response);
    }

    /** The first coding, in every header, that is not {@code chunked}. */
    static Optional<String> otherThanChunked(List<String> headers) {
        return HeaderElements.of(headers).stream().filter(coding -> !coding.equalsIgnoreCase("chunked")).findFirst();
    }
}
