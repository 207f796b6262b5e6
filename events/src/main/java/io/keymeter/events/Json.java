package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.deser.std.StdDeserializer;
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
     * For what others write: an integer only as a JSON integer, text only as a JSON string, each field once, a time
     * only as an RFC 3339 string. The lenient one took {@code "units":2.5} produced straight to the request log as 2
     * units, {@code "units":"5"} as 5, {@code "requestId":1234} as "1234", a field given twice by its last value, and a
     * time as a number of epoch seconds or {@code T24:00:00Z}, where ingest refuses them all.
     */
    private static final JsonMapper STRICT = MAPPER.rebuild()
            .addModule(new SimpleModule("keymeter-rfc3339").addDeserializer(Instant.class, new Rfc3339Instants()))
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .withCoercionConfig(LogicalType.Integer, c -> c
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
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

    /**
     * An {@link Instant} from an RFC 3339 date-time string only ({@link Timestamps#parse}: offsets and leap seconds
     * too): Jackson's own reader also takes a number, or a string of digits, as epoch seconds ({@code "1800000000"}:
     * 2027-01-15), and {@code T24:00:00Z} as the next day.
     */
    private static final class Rfc3339Instants extends StdDeserializer<Instant> {
        Rfc3339Instants() {
            super(Instant.class);
        }

        @Override
        public Instant deserialize(JsonParser parser, DeserializationContext context) {
            if (!parser.hasToken(JsonToken.VALUE_STRING)) {
                return (Instant) context.handleUnexpectedToken(Instant.class, parser);
            }
            try {
                return Timestamps.parse(parser.getString());
            } catch (DateTimeException e) {
                return (Instant) context.handleWeirdStringValue(Instant.class, parser.getString(),
                        "not an RFC 3339 date-time");
            }
        }
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
