package io.keymeter.platform.web;

import io.keymeter.events.Json;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP API speaks the topics' JSON dialect, but refuses unknown fields (no mass assignment) and values of the
 * wrong JSON type: Jackson's defaults took {@code "slot":1.9} as slot 1, {@code "slot":"2"} as 2, {@code "name":5}
 * as "5" and {@code "expiresAt":1800000000} as epoch seconds, where the contract says a slot is 1 or 2 and a time is
 * an RFC 3339 string.
 */
@Configuration(proxyBeanMethods = false)
public class JsonConfiguration {

    @Bean
    JsonMapper jsonMapper() {
        // strict: integers only as JSON integers, text only as JSON strings, times only as RFC 3339 strings, and a
        // name given twice refused, not resolved to its last value ({"slot":1,"slot":2} made slot 2)
        return Json.strictMapper().rebuild().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                // problem+json extension members ("errors") at the top level, not under "properties"
                .addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class)
                .build();
    }
}
