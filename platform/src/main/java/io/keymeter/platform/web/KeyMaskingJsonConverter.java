package io.keymeter.platform.web;

import io.keymeter.events.ApiKeys;
import java.io.IOException;
import java.util.Map;
import org.springframework.core.ResolvableType;
import org.springframework.http.HttpInputMessage;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.converter.json.JacksonJsonHttpMessageConverter;

/**
 * Spring MVC's JSON converter, but a body it cannot read is refused with the API keys in its message masked. Jackson
 * quotes what it could not take (a key sent unquoted, as a field's name, as a time), and Spring's web layer logs that
 * message at DEBUG twice (the argument it could not resolve, the exception it resolved): an operator debugging request
 * handling would have had gateways' keys in the log. The cause keeps Jackson's exception for {@link ProblemHandler},
 * which answers from its type and path, never its message.
 */
final class KeyMaskingJsonConverter extends JacksonJsonHttpMessageConverter {

    /** The same mapper and media types as {@code converter}. */
    KeyMaskingJsonConverter(JacksonJsonHttpMessageConverter converter) {
        super(converter.getMapper());
        setSupportedMediaTypes(converter.getSupportedMediaTypes());
    }

    @Override
    public Object read(ResolvableType type, HttpInputMessage input, Map<String, Object> hints)
            throws IOException {
        try {
            return super.read(type, input, hints);
        } catch (HttpMessageNotReadableException e) {
            throw masked(e, input);
        }
    }

    @Override
    protected Object readInternal(Class<?> type, HttpInputMessage input) throws IOException {
        try {
            return super.readInternal(type, input);
        } catch (HttpMessageNotReadableException e) {
            throw masked(e, input);
        }
    }

    static HttpMessageNotReadableException masked(HttpMessageNotReadableException e, HttpInputMessage input) {
        String masked = ApiKeys.redact(e.getMessage()); // the same string (null too) when it holds no key
        if (masked == e.getMessage()) {
            return e;
        }
        return new HttpMessageNotReadableException(masked, e.getCause(),
                e.getHttpInputMessage() != null ? e.getHttpInputMessage() : input);
    }
}
