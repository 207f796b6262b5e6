package io.keymeter.metering.verify;

/** Body of {@code POST /v1/verify}. toString leaves the key out. */
public record VerifyRequest(String apiKey, String service, String referrer, String itemId) {

    @Override
    public String toString() {
        return "VerifyRequest[service=" + service + ", referrer=" + referrer + ", itemId=" + itemId + "]";
    }
}
