package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.keymeter.events.ApiKeys;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.ResolvableType;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.converter.StringHttpMessageConverter;
import org.springframework.http.converter.json.JacksonJsonHttpMessageConverter;
import org.springframework.mock.http.MockHttpInputMessage;
import tools.jackson.core.JacksonException;

/** A body the JSON converter cannot read is refused with the keys in its message masked, Jackson's cause kept. */
class KeyMaskingJsonConverterTest {

    private final String key = ApiKeys.generate().apiKey();
    private final JacksonJsonHttpMessageConverter converter =
            new KeyMaskingJsonConverter(new JacksonJsonHttpMessageConverter());

    record Body(String name, java.time.Instant at) {
    }

    @Test
    void aKeyJacksonQuotesIsMaskedInTheMessageAndKeptInTheCauseForTheAnswer() {
        for (String json : new String[] {"{\"name\":" + key + "}", "{\"at\":\"" + key + "\"}"}) {
            HttpMessageNotReadableException refused = catchThrowableOfType(HttpMessageNotReadableException.class,
                    () -> converter.read(ResolvableType.forClass(Body.class), input(json), Map.of()));
            assertThat(refused.getMessage()).as(json).contains("km_").doesNotContain(key.substring(20))
                    .isEqualTo(ApiKeys.redact(refused.getMessage()));
            assertThat(refused.toString()).doesNotContain(key.substring(20, 52));
            assertThat(refused.getCause()).isInstanceOf(JacksonException.class);
            assertThat(refused.getHttpInputMessage()).isNotNull();
            // the plain read(Class, …) path too, which ends in readInternal
            HttpMessageNotReadableException plain = catchThrowableOfType(HttpMessageNotReadableException.class,
                    () -> converter.read(Body.class, input(json)));
            assertThat(plain.getMessage()).as(json).contains("km_").doesNotContain(key.substring(20));
        }
    }

    @Test
    void aRefusalWithoutAKeyIsLeftAsItWasAndAReadableBodyIsRead() throws Exception {
        HttpMessageNotReadableException refused = catchThrowableOfType(HttpMessageNotReadableException.class,
                () -> converter.read(ResolvableType.forClass(Body.class), input("{\"name\":nope}"), Map.of()));
        assertThat(refused.getMessage()).contains("'nope'");
        assertThat(converter.read(ResolvableType.forClass(Body.class), input("{\"name\":\"a\"}"), Map.of()))
                .isEqualTo(new Body("a", null));
    }

    @Test
    void onlySpringsJsonConverterIsReplacedAndItKeepsItsMapperAndMediaTypes() {
        JacksonJsonHttpMessageConverter spring = new JacksonJsonHttpMessageConverter();
        spring.setSupportedMediaTypes(java.util.List.of(MediaType.APPLICATION_JSON));
        assertThat(JsonAnswers.maskingKeys(spring)).isInstanceOf(KeyMaskingJsonConverter.class)
                .satisfies(c -> assertThat(c.getSupportedMediaTypes()).containsExactly(MediaType.APPLICATION_JSON))
                .satisfies(c -> assertThat(((JacksonJsonHttpMessageConverter) c).getMapper())
                        .isSameAs(spring.getMapper()));
        StringHttpMessageConverter text = new StringHttpMessageConverter();
        assertThat(JsonAnswers.maskingKeys(text)).isSameAs(text);
        assertThat(JsonAnswers.maskingKeys(converter)).isSameAs(converter);
    }

    private static MockHttpInputMessage input(String json) {
        MockHttpInputMessage input = new MockHttpInputMessage(json.getBytes(StandardCharsets.UTF_8));
        input.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        return input;
    }
}
