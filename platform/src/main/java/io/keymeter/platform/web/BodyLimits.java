package io.keymeter.platform.web;

import io.keymeter.platform.security.BearerTokenFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Bounds the body of every call but ingest's (which has its own limits, 16 MiB sent and 64 MiB inflated): 64 KiB for
 * {@code /v1/verify}, 1 MiB for the rest, each many times what a valid call can hold (a credential's 1,000 item ids
 * and 100 referrers of 2,048 characters are about 300 KB). Without it one account could post a body of any size and
 * have Jackson hold it whole (a name of tens of millions of characters, a list of millions of privileges), enough
 * to run the process, every tenant's, out of memory. A declared length over the limit is answered 413 at
 * once; a chunked body is counted as it is read and stops there, answered 413 too ({@link ProblemHandler}).
 * After the token filter, so a caller without a token is answered 401 whatever it sends.
 */
@Component
@Order(-98)
public class BodyLimits extends OncePerRequestFilter {

    static final long VERIFY_LIMIT = 64 * 1024;
    static final long LIMIT = 1024 * 1024;

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = BearerTokenFilter.routedPath(request);
        if (path.equals("/v1/requests")) {
            chain.doFilter(request, response);
            return;
        }
        long limit = path.equals("/v1/verify") ? VERIFY_LIMIT : LIMIT;
        if (request.getContentLengthLong() > limit) {
            Problems.write(request, response, 413, "Payload too large", tooLarge(limit));
            return;
        }
        chain.doFilter(new Bounded(request, limit), response);
    }

    static String tooLarge(long limit) {
        return "The body is larger than this call takes (" + limit / 1024 + " KiB).";
    }

    /** Thrown by the bounded body when a chunked body passes the limit; answered 413. */
    public static final class BodyTooLargeException extends IOException {
        BodyTooLargeException(long limit) {
            super(tooLarge(limit));
        }
    }

    private static final class Bounded extends HttpServletRequestWrapper {
        private final long limit;
        private ServletInputStream stream;

        Bounded(HttpServletRequest request, long limit) {
            super(request);
            this.limit = limit;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new CountingStream(super.getInputStream(), limit);
            }
            return stream;
        }

        /** Through the counting stream too: a reader of the body must not get past the bound. */
        @Override
        public BufferedReader getReader() throws IOException {
            String charset = getCharacterEncoding();
            return new BufferedReader(new InputStreamReader(getInputStream(),
                    charset == null ? StandardCharsets.UTF_8 : Charset.forName(charset)));
        }
    }

    private static final class CountingStream extends ServletInputStream {
        private final ServletInputStream body;
        private final long limit;
        private long read;

        CountingStream(ServletInputStream body, long limit) {
            this.body = body;
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = body.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = body.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) throws BodyTooLargeException {
            read += n;
            if (read > limit) {
                throw new BodyTooLargeException(limit);
            }
        }

        @Override
        public boolean isFinished() {
            return body.isFinished();
        }

        @Override
        public boolean isReady() {
            return body.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            body.setReadListener(listener);
        }
    }
}
