package io.keymeter.platform.web;

import io.keymeter.events.Json;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
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
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.valueOf(status), detail);
        problem.setTitle(title);
        problem.setType(type(title));
        if (errors != null && !errors.isEmpty()) {
            problem.setProperty("errors", errors);
        }
        return problem;
    }

    public static void write(HttpServletResponse response, int status, String title, String detail) throws IOException {
        response.setStatus(status);
        response.setContentType(MEDIA_TYPE);
        Json.mapper().writeValue(response.getOutputStream(), of(status, title, detail, List.of()));
    }

    static URI type(String title) {
        return URI.create("urn:keymeter:problem:" + title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-"));
    }
}
