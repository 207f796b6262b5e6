package io.keymeter.platform.web;

import io.keymeter.platform.security.BearerTokenFilter;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Labels an answer that is not a problem {@code application/json}. Spring's JSON writer writes any {@code +json}
 * type the caller accepts, so {@code Accept: application/problem+json, application/json} (what a client that takes
 * both answers and problems sends) labelled a successful answer a problem document, and a client that reads the type
 * to tell the two apart took its credentials for an error. An answer whose type the controller set (problems, CSV)
 * keeps it; the charset negotiated is kept. Only the API's answers: the actuator's own types
 * ({@code application/vnd.spring-boot.actuator.v3+json}) are its clients' to negotiate.
 */
@ControllerAdvice
public class JsonAnswerType implements ResponseBodyAdvice<Object> {

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true;
    }

    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType selected,
            Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
            ServerHttpResponse response) {
        if (response.getHeaders().getContentType() == null && isOtherJsonType(selected)
                && isApiCall(request)) {
            response.getHeaders().setContentType(selected.getCharset() == null ? MediaType.APPLICATION_JSON
                    : new MediaType(MediaType.APPLICATION_JSON, selected.getCharset()));
        }
        return body;
    }

    /** Under {@code /v1} by either view of the path ({@code /v1;x/usage} too), as the API's filters judge. */
    private static boolean isApiCall(ServerHttpRequest request) {
        return request instanceof ServletServerHttpRequest servlet
                && BearerTokenFilter.isApiCall(servlet.getServletRequest());
    }

    /** A {@code +json} type (a problem document's, a vendor's), not JSON itself. */
    static boolean isOtherJsonType(MediaType type) {
        return "json".equals(type.getSubtypeSuffix()) && !MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type);
    }
}
