package io.keymeter.metering.verify;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.Timestamps;
import io.keymeter.platform.web.ApiProblem;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /v1/verify} for gateways (gateway token checked by the platform's filter). */
@RestController
class VerifyController {

    private final Verifier verifier;

    VerifyController(Verifier verifier) {
        this.verifier = verifier;
    }

    // no "produces": AcceptGuard refuses an Accept without JSON before the call, and JsonAnswerType labels the
    // answer application/json, as for every other call (with it, Accept: application/problem+json alone was a 406)
    @PostMapping(path = "/v1/verify", consumes = "application/json")
    VerifyResponse verify(@RequestBody VerifyRequest request) {
        // the gateway's own part of the call, as in a request line: without it, or with a service the catalog does not
        // have, the answer was service-not-permitted, which reads as the key's fault. A missing apiKey is the
        // client's, and stays malformed-key.
        if (request.service() == null || request.service().isBlank()) {
            throw ApiProblem.invalid("service", "is required");
        }
        // what ingest would refuse of the line: a call answered valid and then refused at ingest is served unbilled
        if (ServiceCatalog.byService(request.service()).isEmpty()) {
            throw ApiProblem.invalid("service", ServiceCatalog.NOT_IN_CATALOG);
        }
        RequestLog.textOverBound(request.operation(), request.itemId(), request.referrer()).ifPresent(field -> {
            throw ApiProblem.invalid(field, RequestLog.TEXT_TOO_LONG);
        });
        checkLineFields(request);
        return verifier.verify(request);
    }

    /**
     * The rest of a request line, when sent, checked as ingest checks it (its age is not: that depends on when the
     * line is shipped). Answered {@code valid}, an empty operation or requestId, units of 0 or a timestamp with a
     * space for its {@code T} were served and then refused at ingest, never billed.
     */
    private static void checkLineFields(VerifyRequest request) {
        if (request.requestId() != null && !RequestLog.requestIdInBounds(request.requestId())) {
            throw ApiProblem.invalid("requestId", RequestLog.REQUEST_ID_OUT_OF_BOUNDS);
        }
        if (ApiKeys.holdsKey(request.requestId())) {
            throw ApiProblem.invalid("requestId", RequestLog.REQUEST_ID_HOLDS_A_KEY);
        }
        if (request.operation() != null && request.operation().isEmpty()) {
            throw ApiProblem.invalid("operation", "is required");
        }
        if (request.units() != null) {
            BigInteger units = integer(request.units());
            if (units == null || units.signum() < 1 || units.bitLength() > 31) {
                throw ApiProblem.invalid("units", RequestLog.unitsOutOfBounds(units == null ? 0 : units.signum()));
            }
        }
        if (request.timestamp() != null) {
            Instant timestamp;
            try {
                timestamp = Timestamps.parse(request.timestamp());
            } catch (DateTimeParseException e) {
                throw ApiProblem.invalid("timestamp", Timestamps.NOT_RFC_3339);
            }
            if (timestamp.isBefore(Instant.EPOCH)) {
                throw ApiProblem.invalid("timestamp", Timestamps.BEFORE_1970);
            }
        }
    }

    /** A JSON integer as read untyped, or null for anything else (a float, a string, a boolean, an object). */
    private static BigInteger integer(Object value) {
        return value instanceof Integer || value instanceof Long ? BigInteger.valueOf(((Number) value).longValue())
                : value instanceof BigInteger big ? big : null;
    }
}
