package io.keymeter.credentials.api;

import io.keymeter.credentials.lifecycle.CommandReply.PublishedKey;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.KeyStatus;
import io.keymeter.platform.keys.LocalKeyStates;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Holds a change's answer until this instance's verify has read the key states it published, at most
 * {@link #LONGEST}. Verify reads {@code keymeter.api-keys} a few milliseconds behind the store: a key returned in a 201
 * was refused {@code unknown-key} for up to 11 ms (4 calls in 400 right after a regenerate), and a key just killed
 * still verified valid (12 in 200 right after a privileges edit, under load). Without the metering role in this
 * process there is nothing here to wait for; other instances' verify learns of a change milliseconds later (README).
 */
@Component
class VerifyCatchUp {

    /** Verify is caught up within milliseconds; past this it is slow for another reason, and the answer goes out. */
    static final Duration LONGEST = Duration.ofSeconds(1);
    private static final long POLL_NANOS = Duration.ofMillis(1).toNanos() / 4;

    private final ObjectProvider<LocalKeyStates> local;

    VerifyCatchUp(ObjectProvider<LocalKeyStates> local) {
        this.local = local;
    }

    /** Returns once verify here has read every one of the key states, or after {@link #LONGEST}. */
    void await(List<PublishedKey> published) {
        LocalKeyStates states = local.getIfAvailable();
        if (states == null || published.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + LONGEST.toNanos();
        while (states.current() && !read(states, published) && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /**
     * True when verify holds each published state or a later one (it keeps the latest {@code updatedAt} of a key); a
     * dead key it never held is refused as unknown all the same.
     */
    static boolean read(LocalKeyStates states, List<PublishedKey> published) {
        for (PublishedKey key : published) {
            ApiKeyState held = states.get(key.keyId());
            boolean upToDate = held != null ? !held.updatedAt().isBefore(key.updatedAt())
                    : key.status() != KeyStatus.ACTIVE;
            if (!upToDate) {
                return false;
            }
        }
        return true;
    }
}
