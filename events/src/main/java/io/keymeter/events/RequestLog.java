package io.keymeter.events;

import java.time.Instant;

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

    /** The most units one request may carry (ingest refuses more; metering sends more to the dead letters). */
    public static final long MAX_UNITS = Integer.MAX_VALUE;

    /** Whether one request may carry this many units: 1 to {@link #MAX_UNITS}. */
    public static boolean unitsInBounds(long units) {
        return units >= 1 && units <= MAX_UNITS;
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
