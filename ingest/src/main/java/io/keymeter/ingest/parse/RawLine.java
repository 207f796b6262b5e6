package io.keymeter.ingest.parse;

import io.keymeter.events.ApiKeys;

/**
 * One request-log line as read from the body, before validation: the fields as the gateway wrote them, or the first
 * type error found while reading them. Holds the plaintext {@code apiKey}, so it lives only for the time of one line
 * and its {@code toString} hides the key.
 *
 * @param typeError "field: message" when a field had the wrong JSON type, otherwise null
 */
public record RawLine(String requestId, String apiKey, String service, String operation, Long units, String itemId,
                      String referrer, String timestamp, String typeError) {

    @Override
    public String toString() {
        return "RawLine[requestId=" + ApiKeys.redact(requestId) + ", service=" + service + "]";
    }
}
