package io.keymeter.credentials.lifecycle;

import io.keymeter.credentials.lifecycle.CommandReply.Outcome;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The rules of the credential lifecycle (issue table, CONTRACT §3), as a pure function of the current state, a
 * command and the time. Syntax (name length, catalog, patterns, lifetime range) is checked by the HTTP layer before a
 * command is sent; this checks what only the current state can tell (account, slots, key status).
 */
public final class CredentialDecider {

    public static final String REASON_INVALIDATED = "invalidated";
    public static final String REASON_REGENERATED = "regenerated";
    public static final String REASON_PRIVILEGES = "privileges-changed";
    public static final String REASON_ITEM_ACCESS = "item-access-changed";
    public static final String REASON_DELETED = "credential-deleted";

    private final Duration expiringNotice;

    public CredentialDecider(Duration expiringNotice) {
        this.expiringNotice = expiringNotice;
    }

    public Decision decide(Credential state, CredentialCommand command, Instant clockNow) {
        String id = command.commandId();
        if (command.deadline() != null && clockNow.isAfter(command.deadline())) {
            return refuse(state, id, Outcome.EXPIRED, null, "the command arrived after its deadline");
        }
        // events are stamped at now; whether a key is active, expired or free is the clock's (clockNow) to say
        Instant now = changeTime(state, clockNow);
        if (command instanceof CredentialCommand.CreateCredential c) {
            if (state != null) {
                return refuse(state, id, Outcome.CONFLICT, "id", "a credential with this id exists");
            }
            Changes changes = new Changes(c.credentialId(), null, now, clockNow);
            changes.emit(new CredentialEvent.CredentialCreated(changes.eventId(), c.credentialId(), c.accountId(),
                    changes.nextVersion(), now, c.name(), c.privileges(), c.itemAccess(), c.referrers()));
            return changes.applied(id);
        }
        if (state == null || !state.accountId().equals(command.accountId())) {
            // another account's credential answers exactly like a missing one
            return refuse(state, id, Outcome.NOT_FOUND, null, "credential " + command.credentialId());
        }
        // checked here, by the credential's single writer, so no change can land between the check and this one
        if (command.ifMatch() != null && !command.ifMatch().contains(state.version())) {
            return refuse(state, id, Outcome.PRECONDITION_FAILED, null, "The credential is at version "
                    + state.version() + " (ETag \"" + state.version() + "\") now, not at the one If-Match names;"
                    + " nothing was applied. Read it again before changing it.");
        }
        Changes changes = new Changes(state.id(), state, now, clockNow);
        changes.expireDueKeys();
        if (command instanceof CredentialCommand.ChangePrivileges c) {
            changes.emit(new CredentialEvent.PrivilegesChanged(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now, c.privileges()));
            changes.invalidateActiveKeys(REASON_PRIVILEGES);
        } else if (command instanceof CredentialCommand.ChangeItemAccess c) {
            changes.emit(new CredentialEvent.ItemAccessChanged(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now, c.itemAccess()));
            changes.invalidateActiveKeys(REASON_ITEM_ACCESS);
        } else if (command instanceof CredentialCommand.ChangeReferrers c) {
            changes.emit(new CredentialEvent.ReferrersChanged(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now, c.referrers()));
        } else if (command instanceof CredentialCommand.DeleteCredential) {
            changes.invalidateActiveKeys(REASON_DELETED);
            changes.emit(new CredentialEvent.CredentialDeleted(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now));
        } else if (command instanceof CredentialCommand.GenerateKey c) {
            Integer slot = c.slot() != null ? c.slot() : changes.firstFreeSlot();
            if (slot == null) {
                return refuse(state, id, Outcome.CONFLICT, "slot", "both slots hold an active key");
            }
            if (changes.activeKey(slot).isPresent()) {
                return refuse(state, id, Outcome.CONFLICT, "slot", "slot " + slot + " holds an active key");
            }
            changes.emitKey(new CredentialEvent.KeyCreated(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now, slot, c.keyId(), c.expiresAt()), c.secretHash());
        } else if (command instanceof CredentialCommand.RegenerateKey c) {
            Optional<Credential.Key> previous = changes.state.key(c.slot());
            if (previous.isEmpty()) {
                return refuse(state, id, Outcome.NOT_FOUND, "slot", "key in slot " + c.slot());
            }
            // cut as the API cuts a date sent: one kept from a key of an earlier version may be finer
            Instant expiresAt = (c.expiresAt() != null ? c.expiresAt() : previous.get().expiresAt())
                    .truncatedTo(ChronoUnit.MILLIS);
            if (!expiresAt.isAfter(now)) { // the stamp: a key stamped after its own expiration is never usable
                return refuse(state, id, Outcome.INVALID, "expiresAt",
                        "is required: the previous key's expiration has passed");
            }
            if (previous.get().isActiveAt(clockNow)) {
                changes.invalidate(previous.get(), REASON_REGENERATED);
            }
            changes.emitKey(new CredentialEvent.KeyRegenerated(changes.eventId(), state.id(), state.accountId(),
                    changes.nextVersion(), now, c.slot(), c.keyId(), previous.get().keyId(), expiresAt), c.secretHash());
        } else if (command instanceof CredentialCommand.InvalidateKey c) {
            Optional<Credential.Key> key = changes.state.key(c.slot());
            if (key.isEmpty()) {
                return refuse(state, id, Outcome.NOT_FOUND, "slot", "key in slot " + c.slot());
            }
            if (!key.get().isActiveAt(clockNow)) {
                return refuse(state, id, Outcome.CONFLICT, "slot", "the key in slot " + c.slot() + " is not active");
            }
            changes.invalidate(key.get(), REASON_INVALIDATED);
        }
        return changes.applied(id);
    }

    /**
     * The wall-clock check of one credential: {@code key-expired} for every active key whose expiration passed,
     * {@code key-expiring} once for every active key within the notice period. No change: no events.
     */
    public Decision checkExpiry(Credential state, Instant clockNow) {
        Instant now = changeTime(state, clockNow);
        Changes changes = new Changes(state.id(), state, now, clockNow);
        changes.expireDueKeys();
        for (Credential.Key key : changes.state.keys()) {
            if (key.isActiveAt(clockNow) && !key.expiringNotified()
                    && !key.expiresAt().minus(expiringNotice).isAfter(clockNow)) {
                changes.emit(new CredentialEvent.KeyExpiring(changes.eventId(), state.id(), state.accountId(),
                        changes.nextVersion(), now, key.slot(), key.keyId(), key.expiresAt()));
            }
        }
        return new Decision(changes.events, changes.keyStates, changes.state, null);
    }

    /**
     * When {@link #checkExpiry} would next change this credential: the earliest moment an active key expires or, if
     * not yet announced, enters its notice period. Empty: no active key, nothing will ever be due.
     */
    public Optional<Instant> nextExpiryCheck(Credential state) {
        return state.keys().stream()
                .filter(k -> k.status() == KeyStatus.ACTIVE)
                .map(k -> k.expiringNotified() ? k.expiresAt() : k.expiresAt().minus(expiringNotice))
                .min(Instant::compareTo);
    }

    /**
     * When a change to this credential happens: the clock's time, but always after the credential's last change.
     * Readers of {@code keymeter.api-keys} keep, per key, the state stamped latest (a versioned store; the verify
     * cache), so a state stamped earlier than the one before it is history, not news: an invalidation decided on an
     * instance whose clock is behind the last writer's (the task moved, or the clock was stepped back) would leave
     * the key valid for good. Stamps therefore only move forward per credential. Only the stamps: after a writer whose
     * clock ran ahead, judging keys by the bumped time expired valid keys early, refused to invalidate them ("not
     * active") and took their slots for free, for as long as that writer had been ahead.
     */
    static Instant changeTime(Credential state, Instant clockNow) {
        if (state == null || clockNow.isAfter(state.updatedAt())) {
            return clockNow;
        }
        return state.updatedAt().plusMillis(1);
    }

    private static Decision refuse(Credential state, String commandId, Outcome outcome, String field, String message) {
        return new Decision(List.of(), List.of(), state, CommandReply.refused(commandId, outcome, field, message));
    }

    /** Events being decided, folded into the state one at a time so each key state is taken right after its event. */
    private static final class Changes {
        private final String credentialId;
        private Credential state;
        /** The events' time. */
        private final Instant now;
        /** The clock's time, which says whether a key is active. */
        private final Instant clock;
        private final List<CredentialEvent> events = new ArrayList<>();
        private final List<ApiKeyState> keyStates = new ArrayList<>();

        Changes(String credentialId, Credential state, Instant now, Instant clock) {
            this.credentialId = credentialId;
            this.state = state;
            this.now = now;
            this.clock = clock;
        }

        long nextVersion() {
            return (state == null ? 0 : state.version()) + 1;
        }

        /** Deterministic: a redelivered command after an aborted transaction yields the same ids. */
        String eventId() {
            return credentialId + "-" + nextVersion();
        }

        void emit(CredentialEvent event) {
            events.add(event);
            state = Credential.apply(state, event);
            if (event instanceof CredentialEvent.KeyInvalidated e) {
                publish(state, e.keyId());
            } else if (event instanceof CredentialEvent.KeyExpired e) {
                publish(state, e.keyId());
            } else if (event instanceof CredentialEvent.ReferrersChanged) {
                state.keys().stream().filter(k -> k.status() == KeyStatus.ACTIVE).forEach(k -> publish(state, k.keyId()));
            }
        }

        void emitKey(CredentialEvent event, String secretHash) {
            String keyId = event instanceof CredentialEvent.KeyCreated c ? c.keyId()
                    : ((CredentialEvent.KeyRegenerated) event).keyId();
            events.add(event);
            state = Credential.apply(state, event).withSecretHash(keyId, secretHash);
            publish(state, keyId);
        }

        Optional<Credential.Key> activeKey(int slot) {
            return state.key(slot).filter(k -> k.isActiveAt(clock));
        }

        Integer firstFreeSlot() {
            for (int slot = 1; slot <= 2; slot++) {
                if (activeKey(slot).isEmpty()) {
                    return slot;
                }
            }
            return null;
        }

        void expireDueKeys() {
            for (Credential.Key key : state.keys()) {
                if (key.status() == KeyStatus.ACTIVE && !key.expiresAt().isAfter(clock)) {
                    emit(new CredentialEvent.KeyExpired(eventId(), state.id(), state.accountId(), nextVersion(), now,
                            key.slot(), key.keyId(), key.expiresAt()));
                }
            }
        }

        void invalidate(Credential.Key key, String reason) {
            emit(new CredentialEvent.KeyInvalidated(eventId(), state.id(), state.accountId(), nextVersion(), now,
                    key.slot(), key.keyId(), reason));
        }

        void invalidateActiveKeys(String reason) {
            for (Credential.Key key : state.keys()) {
                if (key.isActiveAt(clock)) {
                    invalidate(key, reason);
                }
            }
        }

        Decision applied(String commandId) {
            return new Decision(events, keyStates, state, CommandReply.applied(commandId, state, keyStates));
        }

        private void publish(Credential credential, String keyId) {
            Credential.Key key = credential.keyById(keyId).orElseThrow();
            keyStates.add(new ApiKeyState(key.keyId(), credential.id(), credential.accountId(), key.slot(), key.status(),
                    key.expiresAt(), key.secretHash(), credential.privileges(), credential.itemAccess(),
                    credential.referrers(), now));
        }
    }
}
