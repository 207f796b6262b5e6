package io.keymeter.ingest.publish;

import io.keymeter.events.RequestLog;
import java.io.ByteArrayOutputStream;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Writes a {@link RequestLog} with Jackson's streaming generator: byte for byte what the topic serde
 * ({@code Topics.REQUESTS}, the shared mapper: nulls left out, ISO-8601 instant) writes, without databind's
 * per-record bean introspection, on the hot path of ingest. {@code RequestLogWriterTest} holds the two equal.
 */
final class RequestLogWriter {

    private static final JsonFactory FACTORY = new JsonFactory();

    private RequestLogWriter() {
    }

    static byte[] write(RequestLog r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(320);
        try (JsonGenerator g = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
            g.writeStartObject();
            string(g, "requestId", r.requestId());
            string(g, "keyId", r.keyId());
            string(g, "secretHash", r.secretHash());
            string(g, "service", r.service());
            string(g, "operation", r.operation());
            g.writeNumberProperty("units", r.units());
            string(g, "itemId", r.itemId());
            string(g, "referrer", r.referrer());
            string(g, "timestamp", r.timestamp() == null ? null : r.timestamp().toString());
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static void string(JsonGenerator g, String name, String value) {
        if (value != null) {
            g.writeStringProperty(name, value);
        }
    }
}
