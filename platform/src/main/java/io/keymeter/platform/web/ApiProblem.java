package io.keymeter.platform.web;

import java.time.Duration;
import java.util.List;

/**
 * An expected failure of an API call, answered as {@code application/problem+json}. Messages are written for the
 * caller and never carry key material.
 */
public class ApiProblem extends RuntimeException {

    static final String NOT_AN_OBJECT = "The body must be a JSON object.";

    private final int status;
    private final String title;
    private final List<FieldError> errors;
    private final Duration retryAfter;

    public ApiProblem(int status, String title, String detail, List<FieldError> errors, Duration retryAfter) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
        this.errors = errors == null ? List.of() : List.copyOf(errors);
        this.retryAfter = retryAfter;
    }

    public static ApiProblem invalid(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    public static ApiProblem invalid(List<FieldError> errors) {
        String detail = errors.size() == 1 ? errors.get(0).field() + ": " + errors.get(0).message()
                : errors.size() + " fields are invalid";
        return new ApiProblem(400, "Invalid request", detail, errors, null);
    }

    /** A body that is JSON but not one object ({@code []}, {@code null}, {@code 42}). */
    public static ApiProblem notAnObject() {
        return new ApiProblem(400, "Invalid request", NOT_AN_OBJECT, List.of(), null);
    }

    public static ApiProblem badRequest(String detail) {
        return new ApiProblem(400, "Bad request", detail, List.of(), null);
    }

    /** The same answer for "missing" and "another account's": tenants cannot probe each other. */
    public static ApiProblem notFound(String what) {
        return new ApiProblem(404, "Not found", what + " does not exist", List.of(), null);
    }

    public static ApiProblem conflict(String detail) {
        return new ApiProblem(409, "Conflict", detail, List.of(), null);
    }

    /** A conditional call ({@code If-Match}) on a state the resource is no longer in; nothing was changed. */
    public static ApiProblem preconditionFailed(String detail) {
        return new ApiProblem(412, "Precondition failed", detail, List.of(), null);
    }

    public static ApiProblem unavailable(String detail, Duration retryAfter) {
        return new ApiProblem(503, "Service unavailable", detail, List.of(), retryAfter);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public Duration retryAfter() {
        return retryAfter;
    }

    /** One invalid field: {@code {"field": …, "message": …}}. */
    public record FieldError(String field, String message) {
    }
}
