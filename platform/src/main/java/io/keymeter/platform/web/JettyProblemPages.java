package io.keymeter.platform.web;

import io.keymeter.events.Json;
import java.nio.ByteBuffer;
import java.util.Set;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.springframework.boot.jetty.JettyServerCustomizer;
import org.springframework.stereotype.Component;

/**
 * Jetty refuses some requests itself, before any filter or controller runs: a URI it cannot decode or finds
 * ambiguous, headers over its limit (431). Its error page is HTML; this makes those answers problem documents like
 * every other error of the API. The detail keeps Jetty's message, which names the rule broken ("Ambiguous URI path
 * parameter"), not the request's content; a server-side failure (5xx) says no more than that.
 */
@Component
public class JettyProblemPages implements JettyServerCustomizer {

    /** Said of every answer by a filter, which these never pass: said here too. */
    private static final String NO_SNIFF = "X-Content-Type-Options";
    /** The paths Jetty gives a request it could not read (HttpConnection's bad-message stream). */
    private static final Set<String> JETTY_PLACEHOLDERS = Set.of("/badMessage", "/badURI");

    @Override
    public void customize(Server server) {
        server.setErrorHandler(new ProblemErrorHandler());
    }

    /** {@code path}: the path called, as sent, for {@code instance}; null when Jetty could not read a request line. */
    static byte[] body(int status, String message, String path) {
        boolean told = status < 500 && message != null && !message.isBlank()
                && !message.equalsIgnoreCase(Problems.titleOf(status));
        String detail = status >= 500 ? "The request could not be completed."
                : "The request could not be read" + (told ? ": " + message : "") + ".";
        return Json.mapper().writeValueAsBytes(Problems.withInstance(Problems.ofStatus(status, detail), path));
    }

    static final class ProblemErrorHandler extends ErrorHandler {

        @Override
        protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                        Callback callback) {
            byte[] body = body(code, reason(code, message, cause), pathCalled(request));
            response.setStatus(code);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problems.MEDIA_TYPE);
            response.getHeaders().put(NO_SNIFF, "nosniff");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
        }

        /**
         * Jetty's message, or what it left out: a Content-Length of more digits than a {@code long} holds overflows
         * in its parser (the only {@link ArithmeticException} there; chunk sizes have a bound of their own), which
         * answers a bare "Bad Request" where every other unreadable length is "Invalid Content-Length Value".
         */
        static String reason(int status, String message, Throwable cause) {
            for (Throwable c = status == 400 ? cause : null; c != null; c = c.getCause()) {
                if (c instanceof ArithmeticException) {
                    return "Invalid Content-Length Value (larger than any body can be)";
                }
            }
            return message;
        }

        /**
         * The path the caller sent, or null where Jetty could not read one: for a request line it cannot parse or
         * decode it stands in a placeholder of its own, which named no path of the API (a probe: {@code
         * "instance":"/badMessage"} for {@code GET /v1/%zz}).
         */
        static String pathCalled(Request request) {
            String path = request.getHttpURI() == null ? null : request.getHttpURI().getPath();
            return JETTY_PLACEHOLDERS.contains(path) ? null : path;
        }

        /** What Jetty sends when it cannot even form a request (a malformed request line or header). */
        @Override
        public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, Problems.MEDIA_TYPE);
            fields.put(NO_SNIFF, "nosniff");
            fields.put(HttpHeader.CACHE_CONTROL, "no-store");
            return ByteBuffer.wrap(body(status, reason, null)); // no request: nothing to name as its instance
        }
    }
}
