package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeys;

/**
 * Body of {@code POST /v1/verify}. A gateway may send the line it will log: its other fields ({@code operation},
 * {@code requestId}, {@code units}, {@code timestamp}) do not change the answer and are only checked as ingest checks
 * them, so that a call answered {@code valid} is not then refused at ingest (served, never billed); any other field
 * is refused with 400 (a misspelt {@code referer} would otherwise be ignored and the call judged as if no referrer
 * were sent). {@code units} is read as any JSON value, so that a wrong one is said in ingest's words (a float or a
 * string was "has an invalid value", one beyond a long "from -2^63 to 2^63-1"). toString leaves the key out, and
 * masks one sent in another field.
 */
public record VerifyRequest(String apiKey, String service, String referrer, String itemId, String operation,
                            String requestId, Object units, String timestamp) {

    /** A call with only the fields that decide the answer. */
    public VerifyRequest(String apiKey, String service, String referrer, String itemId) {
        this(apiKey, service, referrer, itemId, null, null, null, null);
    }

    @Override
    public String toString() {
        // a key sent in the wrong field too: Spring's web layer logs this at DEBUG
        return "VerifyRequest[service=" + ApiKeys.redact(service) + ", referrer=" + ApiKeys.redact(referrer) + ", itemId="
                + ApiKeys.redact(itemId) + "]";
    }
}
