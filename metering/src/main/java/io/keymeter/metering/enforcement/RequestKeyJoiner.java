package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import org.apache.kafka.streams.kstream.ValueJoiner;

/**
 * Joins a request to its key's state as of the request's timestamp (the versioned table does the "as of"; a null
 * state means the key did not exist then) and judges it with {@link KeyValidator}.
 */
public final class RequestKeyJoiner implements ValueJoiner<RequestLog, ApiKeyState, Decision> {

    @Override
    public Decision apply(RequestLog request, ApiKeyState key) {
        RejectionReason reason = KeyValidator.check(key, request.secretHash(), request.service(), request.itemId(),
                request.referrer(), request.timestamp()).orElse(null);
        // a key whose secret does not match is not that credential's: do not attribute the rejection to it
        return new Decision(request, reason == RejectionReason.UNKNOWN_KEY ? null : key, reason);
    }
}
