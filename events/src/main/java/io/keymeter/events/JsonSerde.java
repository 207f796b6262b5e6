package io.keymeter.events;

import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Kafka serde for one record type, backed by the shared {@link Json} mapper (or its strict twin, for what others
 * write). Null stays null (tombstones). A type may name what makes a parsed value unusable (a field its readers
 * cannot do without): such a value is refused as unreadable, as bytes that do not parse are.
 */
public final class JsonSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private final Class<T> type;
    private final JsonMapper mapper;
    private final Function<T, String> unusableBecause;

    public JsonSerde(Class<T> type) {
        this(type, Json.mapper());
    }

    public JsonSerde(Class<T> type, JsonMapper mapper) {
        this(type, mapper, value -> null);
    }

    /** @param unusableBecause why a parsed value cannot be used, or null when it can */
    public JsonSerde(Class<T> type, JsonMapper mapper, Function<T, String> unusableBecause) {
        this.type = type;
        this.mapper = mapper;
        this.unusableBecause = unusableBecause;
    }

    public Class<T> type() {
        return type;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        try {
            return mapper.writeValueAsBytes(data);
        } catch (JacksonException e) {
            throw new SerializationException("cannot write " + type.getSimpleName() + " for " + topic, e);
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        T value;
        try {
            value = mapper.readValue(data, type);
        } catch (JacksonException e) {
            throw unreadable(type, topic, what(e));
        }
        String unusable = value == null ? null : unusableBecause.apply(value);
        if (unusable != null) {
            throw unreadable(type, topic, unusable);
        }
        return value;
    }

    /** The failure of a record that cannot be read, or parsed into a value that cannot be used, and why. */
    public static SerializationException unreadable(Class<?> type, String topic, String why) {
        return new SerializationException("cannot read " + type.getSimpleName() + " from " + topic + ": " + why);
    }

    /**
     * What is wrong, where: Jackson's kind of failure, the field's path and the position, never a value. Jackson's own
     * message quotes the offending text ({@code Unrecognized token 'km_…'}), and this message goes to the log and
     * to the dead letter's headers: a key pasted unquoted into a field would have been written out in clear.
     */
    static String what(JacksonException e) {
        StringBuilder what = new StringBuilder(e.getClass().getSimpleName());
        String path = e.getPath().stream()
                .map(r -> r.getPropertyName() != null ? "." + r.getPropertyName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining());
        if (!path.isEmpty()) {
            what.append(" at ").append(path.startsWith(".") ? path.substring(1) : path);
        }
        TokenStreamLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0) {
            what.append(" (line ").append(at.getLineNr()).append(", column ").append(at.getColumnNr()).append(')');
        }
        return what.toString();
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {
    }

    @Override
    public void close() {
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }
}
