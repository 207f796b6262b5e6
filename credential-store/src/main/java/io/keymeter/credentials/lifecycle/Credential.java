package io.keymeter.credentials.lifecycle;

import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The credential aggregate, the value of the {@code credentials} store: what the events of one credential fold to
 * ({@link #apply}), plus the secret hash of each current key (events never carry it). At most one key per slot:
 * a slot keeps its last key, whatever its status, until a new key takes it.
 */
public record Credential(String id, String accountId, String name, List<String> privileges, List<String> itemAccess,
                         List<String> referrers, List<Key> keys, Instant createdAt, Instant updatedAt, long version) {

    public Credential {
        privileges = privileges == null ? List.of() : List.copyOf(privileges);
        itemAccess = itemAccess == null ? List.of() : List.copyOf(itemAccess);
        referrers = referrers == null ? List.of() : List.copyOf(referrers);
        keys = keys == null ? List.of() : keys.stream().sorted(Comparator.comparingInt(Key::slot)).toList();
    }

    /** One key of a credential. {@code expiringNotified}: key-expiring was published for it. */
    public record Key(int slot, String keyId, String secretHash, KeyStatus status, Instant expiresAt, Instant createdAt,
                      Instant invalidatedAt, String invalidationReason, boolean expiringNotified) {

        /** Active now: not invalidated, not expired, even if the expiry was not yet published. */
        public boolean isActiveAt(Instant now) {
            return status == KeyStatus.ACTIVE && expiresAt.isAfter(now);
        }

        /** The status a reader sees at {@code now}: expiry is derived at read time too. */
        public KeyStatus statusAt(Instant now) {
            return status == KeyStatus.ACTIVE && !expiresAt.isAfter(now) ? KeyStatus.EXPIRED : status;
        }

        Key with(KeyStatus newStatus, Instant at, String reason) {
            return new Key(slot, keyId, secretHash, newStatus, expiresAt, createdAt, at, reason, expiringNotified);
        }

        @Override
        public String toString() {
            return "Key[slot=" + slot + ", keyId=" + keyId + ", status=" + status + ", expiresAt=" + expiresAt + "]";
        }
    }

    public Optional<Key> key(int slot) {
        return keys.stream().filter(k -> k.slot() == slot).findFirst();
    }

    public Optional<Key> keyById(String keyId) {
        return keys.stream().filter(k -> k.keyId().equals(keyId)).findFirst();
    }

    /** The same credential with every secret hash removed: what leaves the store for readers. */
    public Credential withoutSecrets() {
        return new Credential(id, accountId, name, privileges, itemAccess, referrers,
                keys.stream().map(k -> new Key(k.slot(), k.keyId(), null, k.status(), k.expiresAt(), k.createdAt(),
                        k.invalidatedAt(), k.invalidationReason(), k.expiringNotified())).toList(),
                createdAt, updatedAt, version);
    }

    /** The key with this id, carrying the hash of its secret. */
    Credential withSecretHash(String keyId, String secretHash) {
        return mapKey(keyId, k -> new Key(k.slot(), k.keyId(), secretHash, k.status(), k.expiresAt(), k.createdAt(),
                k.invalidatedAt(), k.invalidationReason(), k.expiringNotified()));
    }

    /**
     * Folds one event into a state (null before creation and after deletion). The one definition of what each event
     * means, used by the processor and by anyone replaying {@code keymeter.credential-events}.
     */
    public static Credential apply(Credential state, CredentialEvent event) {
        if (event instanceof CredentialEvent.CredentialCreated e) {
            return new Credential(e.credentialId(), e.accountId(), e.name(), e.privileges(), e.itemAccess(),
                    e.referrers(), List.of(), e.at(), e.at(), e.version());
        }
        if (state == null || event instanceof CredentialEvent.CredentialDeleted) {
            return null;
        }
        if (event instanceof CredentialEvent.PrivilegesChanged e) {
            return state.with(e, e.privileges(), state.itemAccess, state.referrers, state.keys);
        }
        if (event instanceof CredentialEvent.ItemAccessChanged e) {
            return state.with(e, state.privileges, e.itemAccess(), state.referrers, state.keys);
        }
        if (event instanceof CredentialEvent.ReferrersChanged e) {
            return state.with(e, state.privileges, state.itemAccess, e.referrers(), state.keys);
        }
        if (event instanceof CredentialEvent.KeyCreated e) {
            return state.withKeyInSlot(e, new Key(e.slot(), e.keyId(), null, KeyStatus.ACTIVE, e.expiresAt(), e.at(),
                    null, null, false));
        }
        if (event instanceof CredentialEvent.KeyRegenerated e) {
            return state.withKeyInSlot(e, new Key(e.slot(), e.keyId(), null, KeyStatus.ACTIVE, e.expiresAt(), e.at(),
                    null, null, false));
        }
        if (event instanceof CredentialEvent.KeyInvalidated e) {
            return state.withVersion(e).mapKey(e.keyId(), k -> k.with(KeyStatus.INVALIDATED, e.at(), e.reason()));
        }
        if (event instanceof CredentialEvent.KeyExpired e) {
            return state.withVersion(e).mapKey(e.keyId(), k -> k.with(KeyStatus.EXPIRED, null, null));
        }
        if (event instanceof CredentialEvent.KeyExpiring e) {
            return state.withVersion(e).mapKey(e.keyId(), k -> new Key(k.slot(), k.keyId(), k.secretHash(), k.status(),
                    k.expiresAt(), k.createdAt(), k.invalidatedAt(), k.invalidationReason(), true));
        }
        throw new IllegalArgumentException("unknown event " + event.getClass().getSimpleName());
    }

    private Credential with(CredentialEvent e, List<String> newPrivileges, List<String> newItemAccess,
                            List<String> newReferrers, List<Key> newKeys) {
        return new Credential(id, accountId, name, newPrivileges, newItemAccess, newReferrers, newKeys, createdAt,
                e.at(), e.version());
    }

    private Credential withVersion(CredentialEvent e) {
        return with(e, privileges, itemAccess, referrers, keys);
    }

    private Credential withKeyInSlot(CredentialEvent e, Key key) {
        List<Key> newKeys = new ArrayList<>(keys.stream().filter(k -> k.slot() != key.slot()).toList());
        newKeys.add(key);
        return with(e, privileges, itemAccess, referrers, newKeys);
    }

    private Credential mapKey(String keyId, UnaryOperator<Key> change) {
        return new Credential(id, accountId, name, privileges, itemAccess, referrers,
                keys.stream().map(k -> k.keyId().equals(keyId) ? change.apply(k) : k).toList(),
                createdAt, updatedAt, version);
    }
}
