package io.keymeter.platform.web;

import io.keymeter.events.Json;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/** Builds RFC 9457 problem documents; also writes them where no controller runs (filters). */
public final class Problems {

    public static final String MEDIA_TYPE = "application/problem+json";

    private Problems() {
    }

    public static ProblemDetail of(int status, String title, String detail, List<ApiProblem.FieldError> errors) {
        ProblemDetail problem = ProblemDetail.forStatus(status); // any code, a non-standard one (499) too
        problem.setDetail(detail);
        problem.setTitle(title);
        problem.setType(type(title));
        if (errors != null && !errors.isEmpty()) {
            problem.setProperty("errors", errors);
        }
        return problem;
    }

    /** A problem named after its status alone ({@code 405 Method not allowed}), typed like every other of ours. */
    public static ProblemDetail ofStatus(int status, String detail) {
        return of(status, titleOf(status), detail, List.of());
    }

    /**
     * Gives a problem Spring built itself (type {@code about:blank}: 404 no such call, 405, 406, 415) the type and
     * the title our own problems of that status carry, so a client tells problems apart by {@code type} alone.
     */
    static ProblemDetail typed(ProblemDetail problem) {
        if (problem.getType() == null || "about:blank".equals(problem.getType().toString())) {
            String title = titleOf(problem.getStatus());
            problem.setTitle(title);
            problem.setType(type(title));
        }
        return problem;
    }

    /** The reason phrase in sentence case, as our own titles are: "Unsupported media type". */
    static String titleOf(int status) {
        HttpStatus known = HttpStatus.resolve(status);
        String phrase = known == null ? "Error " + status : known.getReasonPhrase();
        return phrase.charAt(0) + phrase.substring(1).toLowerCase(Locale.ROOT);
    }

    /** Writes a problem from a filter, with the request's path as its {@code instance} as Spring MVC's carry. */
    public static void write(HttpServletRequest request, HttpServletResponse response, int status, String title,
                             String detail) throws IOException {
        ProblemDetail problem = withInstance(of(status, title, detail, List.of()), request);
        response.setStatus(status);
        response.setContentType(MEDIA_TYPE);
        Json.mapper().writeValue(response.getOutputStream(), problem);
    }

    /**
     * Sets {@code instance} to the request's path unless it has one. Spring MVC would otherwise set it with
     * {@code URI.create} of the raw path, which throws for characters Jetty lets through in a path parameter
     * ({@code /v1/usage;a|b}): every problem on such a path became a 500. Such a path is escaped instead.
     */
    public static ProblemDetail withInstance(ProblemDetail problem, HttpServletRequest request) {
        return request == null ? problem : withInstance(problem, request.getRequestURI());
    }

    /** As {@link #withInstance(ProblemDetail, HttpServletRequest)}, for a request's raw path. */
    static ProblemDetail withInstance(ProblemDetail problem, String path) {
        if (problem.getInstance() != null || path == null) {
            return problem;
        }
        // never echoed with a key in it, as sent or percent-encoded: Jetty refuses some paths before KeyInUrlGuard
        String raw = KeyInUrlGuard.masked(path);
        try {
            problem.setInstance(URI.create(raw));
        } catch (IllegalArgumentException e) {
            try {
                problem.setInstance(new URI(null, null, raw, null)); // quotes what the grammar refuses
            } catch (URISyntaxException unreachable) {
                problem.setInstance(URI.create("about:blank"));
            }
        }
        return problem;
    }

    static URI type(String title) {
        return URI.create("urn:keymeter:problem:" + title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-"));
    }
}
