package io.keymeter.metering.verify;

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
        if (!verifier.ready()) {
            throw ApiProblem.unavailable("Key states are still loading, or cannot be read from Kafka now.",
                    Duration.ofSeconds(1));
        }
        return verifier.verify(request);
    }
}
