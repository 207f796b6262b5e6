package io.keymeter.platform.web;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Refuses query parameters a call does not take, and one given twice, as an unknown JSON field is refused: a
 * misspelt one ({@code cylce=2026-10}, {@code limt=10}) was ignored and the call answered for something else.
 */
public final class QueryParameters {

    private QueryParameters() {
    }

    /**
     * 400 naming the first query parameter of a call that changes something and takes none: ignored,
     * {@code regenerate?expiresAt=…} kept the old date and answered 201. Read from the query string alone: a
     * form-typed body, taken as empty by a call without one, is not read as parameters.
     */
    public static void none(HttpServletRequest request) {
        String query = request.getQueryString();
        if (query == null || query.isEmpty()) {
            return;
        }
        String name = query.split("&", 2)[0].split("=", 2)[0];
        try {
            name = URLDecoder.decode(name, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // a malformed escape: named as written
        }
        throw ApiProblem.invalid(name.isEmpty() ? query : name, "unknown parameter; this call takes none");
    }

    /** 400 naming the first parameter of the request that is not one of {@code known}, or is given more than once. */
    public static void only(HttpServletRequest request, String... known) {
        List<String> allowed = List.of(known);
        for (Map.Entry<String, String[]> parameter : request.getParameterMap().entrySet()) {
            if (!allowed.contains(parameter.getKey())) {
                throw ApiProblem.invalid(parameter.getKey(), allowed.isEmpty() ? "unknown parameter; this call takes none"
                        : "unknown parameter; this call takes " + String.join(", ", allowed));
            }
            if (parameter.getValue().length > 1) {
                throw ApiProblem.invalid(parameter.getKey(), "is given more than once");
            }
        }
    }
}
