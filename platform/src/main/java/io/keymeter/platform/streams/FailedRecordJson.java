package io.keymeter.platform.streams;

import io.keymeter.events.Json;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Record;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * A record inside a topology as JSON, for a dead letter: {@code {"key", "value", "timestamp"}}, key and value as
 * Keymeter's mapper writes them (its events are records; bytes as base64), or their {@code toString()} where the
 * mapper cannot write them. No type is left out: the failed record is whatever the failing processor got, which in
 * Keymeter's topologies may hold secret hashes (a request's, a key state's), never a plaintext key.
 */
final class FailedRecordJson {

    private FailedRecordJson() {
    }

    /** The record as JSON, or null when it cannot be written at all: the letter then goes without it. */
    static String of(Record<?, ?> record) {
        try {
            ObjectNode json = Json.mapper().createObjectNode();
            json.set("key", node(record.key()));
            json.set("value", node(record.value()));
            long timestamp = record.timestamp();
            json.put("timestamp", timestamp < 0 ? String.valueOf(timestamp)
                    : Instant.ofEpochMilli(timestamp).toString());
            return Json.mapper().writeValueAsString(json);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static JsonNode node(Object value) {
        try {
            return Json.mapper().valueToTree(value);
        } catch (RuntimeException e) {
            return StringNode.valueOf(String.valueOf(value)); // throwing too, the record goes undescribed
        }
    }
}
