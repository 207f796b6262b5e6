package io.keymeter.platform.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The error page for what reaches the servlet's error path (a {@code sendError} no exception handler saw: a method the
 * console's {@code /} does not take, say): a problem document like every other error, never Spring Boot's JSON or
 * its HTML "Whitelabel" page. Replaces Boot's {@code BasicErrorController}, which backs off when an
 * {@link ErrorController} exists.
 */
@RestController
class ProblemErrorController implements ErrorController {

    @RequestMapping("${server.error.path:/error}")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        int status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer code && code >= 400
                ? code : 404; // asked for directly: there is no such call
        ProblemDetail problem = Problems.ofStatus(status, status >= 500 ? "The request could not be completed."
                : detail(request.getAttribute(RequestDispatcher.ERROR_MESSAGE), status));
        // the failed request's path, not the error page's; the error page's own when asked for directly
        Problems.withInstance(problem, request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri
                ? uri : request.getRequestURI());
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    /** Spring's own message for a 4xx ("Request method 'POST' is not supported"), else the status's title. */
    private static String detail(Object message, int status) {
        return message instanceof String text && !text.isBlank() ? text : Problems.titleOf(status) + ".";
    }
}
