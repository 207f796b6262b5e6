package io.keymeter.events;

import java.time.Instant;
import java.util.Optional;

/**
 * One request a gateway served, as it travels on {@code keymeter.requests}: the secret is only a hash.
 *
 * @param secretHash lowercase hex SHA-256 of the key's secret part, see {@link ApiKeys}
 */
public record RequestLog(
        String requestId,
        String keyId,
        String secretHash,
        String service,
        String operation,
        long units,
        String itemId,
        String referrer,
        Instant timestamp) {

    /**
     * The longest request as JSON: an NDJSON line ingest takes, a value on {@code keymeter.requests} metering takes
     * (it sends longer to the dead letters). Every field at its bound fits; a longer one carries what nobody reads,
     * and copied on it could pass no producer's {@code max.request.size}, which counts bytes before compression.
     */
    public static final int MAX_JSON_BYTES = 64 * 1024;

    /** The most units one request may carry (ingest refuses more; metering sends more to the dead letters). */
    public static final long MAX_UNITS = Integer.MAX_VALUE;

    /** Whether one request may carry this many units: 1 to {@link #MAX_UNITS}. */
    public static boolean unitsInBounds(long units) {
        return units >= 1 && units <= MAX_UNITS;
    }

    /** Why units out of bounds are refused, in ingest's and verify's answers alike. */
    public static String unitsOutOfBounds(long units) {
        return units < 1 ? "must be a positive integer" : "must be at most " + MAX_UNITS;
    }

    /** The longest requestId (ingest refuses longer; metering sends longer to the dead letters). */
    public static final int MAX_REQUEST_ID_CHARS = 128;
    /** Why a requestId out of bounds is refused, in ingest's and verify's answers alike. */
    public static final String REQUEST_ID_OUT_OF_BOUNDS = "must be 1-" + MAX_REQUEST_ID_CHARS + " characters";
    /** Why a requestId holding an API key is refused: masked, two requests of one key would share an id. */
    public static final String REQUEST_ID_HOLDS_A_KEY =
            "holds an API key (km_…): give each request an id of the gateway's own";
    /** The longest operation, itemId or referrer, likewise. */
    public static final int MAX_TEXT_CHARS = 2048;

    /**
     * Whether a requestId is 1 to {@link #MAX_REQUEST_ID_CHARS} characters, counted in code points as credential
     * names are (an emoji is one character, not two UTF-16 units).
     */
    public static boolean requestIdInBounds(String requestId) {
        return requestId != null && !requestId.isEmpty() && characters(requestId, MAX_REQUEST_ID_CHARS);
    }

    /** Why a text over {@link #MAX_TEXT_CHARS} is refused, in ingest's and verify's answers alike. */
    public static final String TEXT_TOO_LONG = "must be at most " + MAX_TEXT_CHARS + " characters";

    /**
     * The first of a request's texts over {@link #MAX_TEXT_CHARS}, by field name (ingest refuses the line, verify
     * the call, in the same words); empty when all are within it.
     */
    public static Optional<String> textOverBound(String operation, String itemId, String referrer) {
        return !textInBounds(operation) ? Optional.of("operation")
                : !textInBounds(itemId) ? Optional.of("itemId")
                : !textInBounds(referrer) ? Optional.of("referrer") : Optional.empty();
    }

    /** Whether an optional text (operation, itemId, referrer) is absent or at most {@link #MAX_TEXT_CHARS}. */
    public static boolean textInBounds(String text) {
        return text == null || characters(text, MAX_TEXT_CHARS);
    }

    /** At most {@code max} code points; counted only when the UTF-16 length says it could be more (the hot path). */
    private static boolean characters(String text, int max) {
        return text.length() <= max || text.codePointCount(0, text.length()) <= max;
    }

    /** This request, stamped with the given event time if it carries none (its record time, when read). */
    public RequestLog withTimestampIfMissing(long epochMillis) {
        return timestamp != null ? this : new RequestLog(requestId, keyId, secretHash, service, operation, units, itemId,
                referrer, Instant.ofEpochMilli(epochMillis));
    }

    /** Without the secret hash: a hash of a secret never goes into a log line. */
    @Override
    public String toString() {
        return "RequestLog[requestId=" + requestId + ", keyId=" + keyId + ", service=" + service + ", operation="
                + operation + ", units=" + units + ", itemId=" + itemId + ", referrer=" + referrer + ", timestamp="
                + timestamp + "]";
    }
}
