package io.keymeter.credentials.api;

import io.keymeter.platform.health.ReasonedHealthIndicator;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * {@code credentialChanges}: UP while a change to a credential can be confirmed; DOWN, saying why, while every change
 * would answer 503 at once: the reply consumer being replaced after a failure, or its reader ended by an error that
 * needs a restart (before, health stayed UP through both).
 */
@Component("credentialChanges")
class CredentialChangesHealthIndicator extends ReasonedHealthIndicator {

    private final CommandBus bus;

    CredentialChangesHealthIndicator(CommandBus bus) {
        this.bus = bus;
    }

    @Override
    protected Optional<String> downBecause() {
        return bus.unavailableBecause();
    }
}
