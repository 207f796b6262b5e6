package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.StdSerializer;
import tools.jackson.databind.type.LogicalType;

/**
 * The one JSON mapper of Keymeter's topics: ISO-8601 instants, money as decimal strings, nulls left out, unknown
 * fields tolerated (readers must survive newer writers). What others write (a gateway's requests produced straight
 * to {@code keymeter.requests}, the HTTP API's bodies) is read by {@link #strictMapper()}.
 */
public final class Json {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("keymeter-money").addSerializer(BigDecimal.class, new MoneySerializer()))
            .changeDefaultPropertyInclusion(incl -> incl.withValueInclusion(JsonInclude.Include.NON_NULL))
            .build();

    /**
     * For what others write: an integer only as a JSON integer, each field once. The lenient one took
     * {@code "units":2.5} produced straight to the request log as 2 units and {@code "units":"5"} as 5, and a field
     * given twice by its last value, where ingest refuses all three.
     */
    private static final JsonMapper STRICT = MAPPER.rebuild()
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .withCoercionConfig(LogicalType.Integer, c -> c
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail))
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {
    }

    public static JsonMapper mapper() {
        return MAPPER;
    }

    public static JsonMapper strictMapper() {
        return STRICT;
    }

    /** Writes {@link BigDecimal} as a plain decimal string ({@code "12.50"}), never in exponent form. */
    private static final class MoneySerializer extends StdSerializer<BigDecimal> {
        MoneySerializer() {
            super(BigDecimal.class);
        }

        @Override
        public void serialize(BigDecimal value, JsonGenerator generator, SerializationContext context) {
            generator.writeString(value.toPlainString());
        }
    }
}
