package io.keymeter.metering.verify;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * {@code verify}: UP while {@code /v1/verify} answers from a current key-state cache; DOWN, saying why, while it
 * loads, cannot keep up with the topic, or its reader has stopped (verify then answers 503).
 */
@Component("verify")
class VerifyHealthIndicator extends AbstractHealthIndicator {

    private final KeyStateCache cache;

    VerifyHealthIndicator(KeyStateCache cache) {
        this.cache = cache;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("keys", cache.size());
        cache.notCurrentBecause().ifPresentOrElse(reason -> builder.down().withDetail("reason", reason), builder::up);
    }
}
