package io.keymeter.platform.web;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.MisspeltFields;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.eclipse.jetty.http.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Every error of the API as {@code application/problem+json}: field errors named, unknown JSON fields refused,
 * never a stack trace, never a 500 for bad input.
 */
@RestControllerAdvice
public class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);
    private static final MediaType PROBLEM = MediaType.APPLICATION_PROBLEM_JSON;
    /** Jackson's message for a name given twice in one object. */
    private static final Pattern DUPLICATE = Pattern.compile("^Duplicate Object property \"(.*)\"");

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem problem, HttpServletRequest request) {
        ResponseEntity.BodyBuilder response = ResponseEntity.status(problem.status()).contentType(PROBLEM);
        if (problem.retryAfter() != null) {
            response.header(HttpHeaders.RETRY_AFTER, String.valueOf(Math.max(1, problem.retryAfter().toSeconds())));
        }
        return response.body(Problems.withInstance(
                Problems.of(problem.status(), problem.title(), problem.getMessage(), problem.errors()), request));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> typeMismatch(MethodArgumentTypeMismatchException e, HttpServletRequest request) {
        return apiProblem(ApiProblem.invalid(e.getName(), "has an invalid value"), request);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request) {
        BodyLimits.BodyTooLargeException tooLarge = cause(e, BodyLimits.BodyTooLargeException.class);
        if (tooLarge != null) { // a controller that reads its body itself (an optional body) met a chunked one too long
            return ResponseEntity.status(413).contentType(PROBLEM).body(payloadTooLarge(tooLarge, request));
        }
        if (stalledUpload(e, request)) {
            return ResponseEntity.status(408).contentType(PROBLEM).body(stalled(request));
        }
        HttpException refused = clientError(e);
        if (refused != null) {
            return ResponseEntity.status(refused.getCode()).contentType(PROBLEM).body(Problems.withInstance(
                    Problems.ofStatus(refused.getCode(), "The request is not valid: " + refused.getReason() + "."),
                    request));
        }
        log.error("Unexpected failure answering a request", e);
        return ResponseEntity.status(500).contentType(PROBLEM).body(Problems.withInstance(
                Problems.of(500, "Internal error", "The request could not be completed.", List.of()), request));
    }

    /**
     * Jetty decodes the query string only when a parameter is first read, inside the controller call, and refuses a
     * broken one ({@code cycle=%zz}) with an exception that carries its 4xx status; so does a form body it parses
     * for Spring (a body typed as a form with a broken escape), whose problem said the URL was not valid.
     */
    private static HttpException clientError(Throwable e) {
        HttpException http = cause(e, HttpException.class);
        return http != null && http.getCode() >= 400 && http.getCode() < 500 ? http : null;
    }

    /**
     * The body stopped coming for longer than the server's idle timeout (the client's network, its process paused):
     * Jetty fails the read with an {@code IOException} over a {@code TimeoutException}, which was answered 500 and
     * logged at ERROR as Keymeter's own failure.
     */
    private static boolean stalledUpload(Throwable e, HttpServletRequest request) {
        // only calls with a body (a GET's timed-out write, a stalled CSV download, stays a failure of its own)
        return cause(e, java.util.concurrent.TimeoutException.class) != null && cause(e, java.io.IOException.class) != null
                && !"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod());
    }

    private static ProblemDetail stalled(HttpServletRequest request) {
        log.warn("{} {}: the body stopped arriving (idle timeout); answered 408", request.getMethod(),
                request.getRequestURI());
        return Problems.withInstance(Problems.of(408, "Request timeout", "body: stopped arriving for longer than the "
                + "server's idle timeout; nothing of it was taken. Send it again.", List.of()), request);
    }

    /** The first throwable of this type in the cause chain, or null. */
    private static <T> T cause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static ProblemDetail payloadTooLarge(BodyLimits.BodyTooLargeException e, HttpServletRequest request) {
        return Problems.withInstance(Problems.of(413, "Payload too large", e.getMessage(), List.of()), request);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        List<ApiProblem.FieldError> errors = e.getBindingResult().getFieldErrors().stream()
                .map(f -> new ApiProblem.FieldError(f.getField(), f.getDefaultMessage())).toList();
        return ResponseEntity.badRequest().contentType(PROBLEM).body(Problems.withInstance(
                ApiProblem.invalid(errors).errors().isEmpty()
                        ? Problems.of(400, "Invalid request", "The body is invalid.", List.of())
                        : Problems.of(400, "Invalid request", ApiProblem.invalid(errors).getMessage(), errors),
                servletRequest(request)));
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        BodyLimits.BodyTooLargeException tooLarge = cause(e, BodyLimits.BodyTooLargeException.class);
        if (tooLarge != null) {
            return ResponseEntity.status(413).contentType(PROBLEM)
                    .body(payloadTooLarge(tooLarge, servletRequest(request)));
        }
        if (stalledUpload(e, servletRequest(request))) { // a JSON body Spring reads: it was "not valid JSON"
            return ResponseEntity.status(408).contentType(PROBLEM).body(stalled(servletRequest(request)));
        }
        Throwable cause = e.getMostSpecificCause();
        // a value Jackson could not convert (an Instant, say) has the parser's exception as its most specific cause:
        // the Jackson exception above it knows the field
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof DatabindException) {
                cause = t;
                break;
            }
        }
        ProblemDetail body;
        String duplicate = duplicateField(e);
        InputCoercionException range = outOfRange(e);
        if (duplicate != null) {
            body = Problems.of(400, "Invalid request", duplicate + ": appears more than once",
                    List.of(new ApiProblem.FieldError(duplicate, "appears more than once")));
        } else if (cause instanceof MismatchedInputException notAnObject && notAnObject.getPath().isEmpty()
                || e.getMessage() != null && e.getMessage().startsWith("Required request body is missing")) {
            body = Problems.of(400, "Invalid request", ApiProblem.NOT_AN_OBJECT, List.of());
        } else if (cause instanceof UnrecognizedPropertyException unknown) {
            // a field written another way (itemID, referer) names the one meant
            String meant = MisspeltFields.meant(unknown.getPropertyName(), unknown.getKnownPropertyIds());
            String hint = meant == null ? "" : "; did you mean '" + meant + "'?";
            String name = ApiKeys.redact(unknown.getPropertyName()); // a key sent as a field's name, echoed
            body = Problems.of(400, "Invalid request", "unknown field '" + name + "'" + hint,
                    List.of(new ApiProblem.FieldError(name, "unknown field" + hint)));
        } else if (cause instanceof DatabindException mapping && !mapping.getPath().isEmpty()) {
            String field = fieldOf(mapping);
            String expected = expectation(mapping);
            body = Problems.of(400, "Invalid request", field + ": " + expected,
                    List.of(new ApiProblem.FieldError(field, expected)));
        } else if (range != null) {
            // {"slot":2147483648} is valid JSON: it was "The body is not valid JSON."
            String field = fieldOf(range);
            String expected = rangeOf(range.getTargetType());
            body = Problems.of(400, "Invalid request", field + ": " + expected,
                    List.of(new ApiProblem.FieldError(field, expected)));
        } else {
            body = Problems.of(400, "Invalid request", "The body is not valid JSON.", List.of());
        }
        return ResponseEntity.badRequest().contentType(PROBLEM).body(Problems.withInstance(body, servletRequest(request)));
    }

    /** A number too large or too small for its field's type, where the body names the field; else null. */
    private static InputCoercionException outOfRange(HttpMessageNotReadableException e) {
        InputCoercionException range = cause(e, InputCoercionException.class);
        return range != null && !range.getPath().isEmpty() ? range : null;
    }

    /** The field a Jackson exception's path leads to: {@code privileges[0]}, {@code a.b}. */
    private static String fieldOf(JacksonException e) {
        return e.getPath().stream()
                .map(r -> r.getPropertyName() != null ? r.getPropertyName() : "[" + r.getIndex() + "]")
                .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b).orElse("body");
    }

    private static String rangeOf(Class<?> type) {
        if (type == Integer.class || type == int.class) {
            return "must be an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE;
        } else if (type == Long.class || type == long.class) {
            return "must be an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE;
        }
        return "is out of range";
    }

    /**
     * What the field takes, in the words ingest uses for a request line's fields: "has an invalid value" left the
     * caller to guess ({@code "apiKey":5} at verify, where ingest says "must be a string").
     */
    static String expectation(DatabindException e) {
        Class<?> type = e instanceof MismatchedInputException mismatch ? mismatch.getTargetType() : null;
        if (type == null) {
            return "has an invalid value";
        } else if (CharSequence.class.isAssignableFrom(type)) {
            return "must be a string";
        } else if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "must be an integer";
        } else if (type == Boolean.class || type == boolean.class) {
            return "must be true or false";
        } else if (type == Instant.class) {
            return "must be an RFC 3339 date-time such as 2026-11-26T10:15:30Z";
        } else if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "must be an array";
        }
        return "has an invalid value";
    }

    /**
     * The field named twice in the body (Jackson's strict duplicate detection, {@code JsonConfiguration}), or null.
     * Before, the last value silently won: {@code {"slot":1,…,"slot":2}} made a key in slot 2.
     */
    private static String duplicateField(HttpMessageNotReadableException e) {
        StreamReadException read = cause(e, StreamReadException.class);
        Matcher duplicate = read == null || read.getOriginalMessage() == null ? null
                : DUPLICATE.matcher(read.getOriginalMessage());
        // a field's name is the client's text, echoed: a key sent as one is masked (answers are logged at TRACE)
        return duplicate != null && duplicate.find() ? ApiKeys.redact(duplicate.group(1)) : null;
    }

    /**
     * Without a Content-Type Spring's detail read "Content-Type 'null' is not supported." (a batch), or named
     * application/octet-stream, which the caller never sent (a JSON body).
     */
    @Override
    protected ResponseEntity<Object> handleHttpMediaTypeNotSupported(HttpMediaTypeNotSupportedException e,
                                                                     HttpHeaders headers, HttpStatusCode status,
                                                                     WebRequest request) {
        // Spring reads a missing Content-Type as application/octet-stream for a JSON body, and said that was not supported
        HttpServletRequest servlet = servletRequest(request);
        boolean none = e.getContentType() == null || servlet != null && servlet.getHeader(HttpHeaders.CONTENT_TYPE) == null;
        if (!none) {
            return super.handleHttpMediaTypeNotSupported(e, headers, status, request);
        }
        String takes = e.getSupportedMediaTypes().stream().map(MediaType::toString).collect(Collectors.joining(", "));
        ProblemDetail problem = Problems.ofStatus(415, "A Content-Type is required"
                + (takes.isEmpty() ? "." : "; this call takes " + takes + "."));
        return handleExceptionInternal(e, problem, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
                                                             HttpStatusCode statusCode, WebRequest request) {
        ResponseEntity<Object> response = super.handleExceptionInternal(ex, body, headers, statusCode, request);
        if (response == null) {
            return null;
        }
        Object problem = response.getBody() instanceof ProblemDetail detail
                ? Problems.withInstance(Problems.typed(detail), servletRequest(request)) : response.getBody();
        return ResponseEntity.status(response.getStatusCode()).headers(response.getHeaders()).contentType(PROBLEM)
                .body(problem);
    }

    private static HttpServletRequest servletRequest(WebRequest request) {
        return request instanceof ServletWebRequest servlet ? servlet.getRequest() : null;
    }
}
