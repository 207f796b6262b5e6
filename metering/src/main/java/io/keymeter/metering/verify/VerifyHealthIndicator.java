package io.keymeter.metering.verify;

import io.keymeter.platform.health.ReasonedHealthIndicator;
import java.util.List;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * {@code verify}: UP while {@code /v1/verify} answers from a current key-state cache; DOWN, saying why, while it
 * loads, cannot keep up with the topic, or its reader has stopped (verify then answers 503).
 */
@Component("verify")
class VerifyHealthIndicator extends ReasonedHealthIndicator {

    private final KeyStateCache cache;

    VerifyHealthIndicator(KeyStateCache cache) {
        this.cache = cache;
    }

    @Override
    protected void details(Health.Builder builder) {
        builder.withDetail("keys", cache.size());
        List<String> held = cache.heldPartitions();
        if (!held.isEmpty()) {
            // UP still, as the other keys are answered: DOWN would take every instance out of a load balancer alike
            builder.withDetail("heldPartitions", held);
        }
    }

    @Override
    protected Optional<String> downBecause() {
        return cache.notCurrentBecause();
    }
}
