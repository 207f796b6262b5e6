package io.keymeter.metering.verify;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Body of {@code POST /v1/verify}. The other fields of a request line are taken and ignored ({@code operation} only
 * bounded, as ingest bounds it), so a gateway can send the line it will log; any other field is refused with 400 (a misspelt {@code referer} would otherwise be ignored
 * and the call judged as if no referrer were sent). toString leaves the key out.
 */
@JsonIgnoreProperties({"requestId", "units", "timestamp"})
public record VerifyRequest(String apiKey, String service, String referrer, String itemId, String operation) {

    /** A call without an operation (it does not change the answer; it is taken only to be bounded as ingest does). */
    public VerifyRequest(String apiKey, String service, String referrer, String itemId) {
        this(apiKey, service, referrer, itemId, null);
    }

    @Override
    public String toString() {
        return "VerifyRequest[service=" + service + ", referrer=" + referrer + ", itemId=" + itemId + "]";
    }
}
