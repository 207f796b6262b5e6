package io.keymeter.metering.verify;

import io.keymeter.events.RequestLog;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
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

    @PostMapping(path = "/v1/verify", consumes = "application/json", produces = "application/json")
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
        verifier.notReadyBecause().ifPresent(reason -> {
            throw ApiProblem.unavailable("Verify cannot answer now: " + reason + ".", Duration.ofSeconds(1));
        });
        return verifier.verify(request);
    }
}
