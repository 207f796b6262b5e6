package io.keymeter.platform.health;

import java.util.Optional;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/** A health component that is UP unless a part says why it cannot serve: then DOWN, with that reason. */
public abstract class ReasonedHealthIndicator extends AbstractHealthIndicator {

    /** Why the part cannot serve now, or empty when it can. */
    protected abstract Optional<String> downBecause();

    /** Details shown whatever the status; none by default. */
    protected void details(Health.Builder builder) {
    }

    @Override
    protected final void doHealthCheck(Health.Builder builder) {
        details(builder);
        downBecause().ifPresentOrElse(reason -> builder.down().withDetail("reason", reason), builder::up);
    }
}
