package io.keymeter.platform.web;

import java.util.Set;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.http.converter.json.JacksonJsonHttpMessageConverter;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The API answers JSON (and a CSV, and text): no other structured format. Kafka's broker brings Jackson 2's YAML
 * module onto the classpath, and Spring MVC then offered YAML as well, written by a Jackson 2 mapper that cannot
 * write an {@code Instant}: {@code Accept: application/yaml} was a 500 on every answer with a time in it, and on a
 * change the change was made first, so {@code Accept: application/yaml, application/json} on a key's generation
 * made the key and lost its secret with the 500 ({@link AcceptGuard} lets that header through: it allows JSON).
 * The JSON converter masks API keys in what it says of a body it cannot read ({@link KeyMaskingJsonConverter}).
 */
@Configuration(proxyBeanMethods = false)
public class JsonAnswers implements WebMvcConfigurer {

    /** Subtypes and suffixes of the formats Spring MVC may find writers for on the classpath. */
    private static final Set<String> OTHER_FORMATS = Set.of("yaml", "x-yaml", "xml", "cbor", "x-jackson-smile",
            "x-protobuf", "protobuf");

    @Override
    public void configureMessageConverters(HttpMessageConverters.ServerBuilder builder) {
        builder.configureMessageConvertersList(converters -> {
            converters.removeIf(JsonAnswers::writesAnotherFormat);
            converters.replaceAll(JsonAnswers::maskingKeys);
        });
    }

    /** Spring's JSON converter as {@link KeyMaskingJsonConverter}; any other as it is. */
    static HttpMessageConverter<?> maskingKeys(HttpMessageConverter<?> converter) {
        return converter.getClass() == JacksonJsonHttpMessageConverter.class
                ? new KeyMaskingJsonConverter((JacksonJsonHttpMessageConverter) converter) : converter;
    }

    static boolean writesAnotherFormat(HttpMessageConverter<?> converter) {
        return converter.getSupportedMediaTypes().stream().anyMatch(JsonAnswers::isOtherFormat);
    }

    private static boolean isOtherFormat(MediaType type) {
        String suffix = type.getSubtypeSuffix();
        return OTHER_FORMATS.contains(type.getSubtype()) || suffix != null && OTHER_FORMATS.contains(suffix);
    }
}
