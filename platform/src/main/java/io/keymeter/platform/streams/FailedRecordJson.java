package io.keymeter.platform.streams;

import io.keymeter.events.Json;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Record;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * A record inside a topology as JSON, for a dead letter: {@code {"key", "value", "timestamp"}}, key and value as
 * Keymeter's mapper writes them (its events are records), or their {@code toString()} where the mapper cannot write
 * them. Bytes are written as their count, {@code "(215 bytes)"}: base64 would hide a plaintext key from the masking
 * of the letter (a request's bytes as it arrived, which a gateway producing directly may have put one in; its parsed
 * fields are there). No type is left out: the failed record is whatever the failing processor got, which in
 * Keymeter's topologies may hold secret hashes (a request's, a key state's).
 */
final class FailedRecordJson {

    /** Keymeter's mapper, bytes written as their count. */
    private static final JsonMapper MAPPER = Json.mapper().rebuild()
            .addModule(new SimpleModule("bytes-as-count").addSerializer(byte[].class, new ValueSerializer<byte[]>() {
                @Override
                public void serialize(byte[] bytes, JsonGenerator generator, SerializationContext context) {
                    generator.writeString("(" + bytes.length + " bytes)");
                }
            }))
            .build();

    private FailedRecordJson() {
    }

    /** The record as JSON, or null when it cannot be written at all: the letter then goes without it. */
    static String of(Record<?, ?> record) {
        try {
            ObjectNode json = MAPPER.createObjectNode();
            json.set("key", node(record.key()));
            json.set("value", node(record.value()));
            long timestamp = record.timestamp();
            json.put("timestamp", timestamp < 0 ? String.valueOf(timestamp)
                    : Instant.ofEpochMilli(timestamp).toString());
            return MAPPER.writeValueAsString(json);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static JsonNode node(Object value) {
        try {
            return MAPPER.valueToTree(value);
        } catch (RuntimeException e) {
            return StringNode.valueOf(String.valueOf(value)); // throwing too, the record goes undescribed
        }
    }
}
