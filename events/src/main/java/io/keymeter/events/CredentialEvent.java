package io.keymeter.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.List;

/**
 * A lifecycle event on {@code keymeter.credential-events}, keyed by credentialId. {@code version} counts the
 * credential's events from 1, so a reader can tell a gap or a repeat.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = CredentialEvent.CredentialCreated.class, name = "credential-created"),
        @JsonSubTypes.Type(value = CredentialEvent.PrivilegesChanged.class, name = "privileges-changed"),
        @JsonSubTypes.Type(value = CredentialEvent.ItemAccessChanged.class, name = "item-access-changed"),
        @JsonSubTypes.Type(value = CredentialEvent.ReferrersChanged.class, name = "referrers-changed"),
        @JsonSubTypes.Type(value = CredentialEvent.KeyCreated.class, name = "key-created"),
        @JsonSubTypes.Type(value = CredentialEvent.KeyRegenerated.class, name = "key-regenerated"),
        @JsonSubTypes.Type(value = CredentialEvent.KeyInvalidated.class, name = "key-invalidated"),
        @JsonSubTypes.Type(value = CredentialEvent.KeyExpired.class, name = "key-expired"),
        @JsonSubTypes.Type(value = CredentialEvent.KeyExpiring.class, name = "key-expiring"),
        @JsonSubTypes.Type(value = CredentialEvent.CredentialDeleted.class, name = "credential-deleted")
})
public sealed interface CredentialEvent {

    String eventId();

    String credentialId();

    String accountId();

    long version();

    Instant at();

    /** The {@code type} written on the topic. */
    static String typeOf(CredentialEvent event) {
        return event.getClass().getAnnotation(EventType.class).value();
    }

    /** The name of an event type on the topic, readable without Jackson. */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
    @interface EventType {
        String value();
    }

    @EventType("credential-created")
    record CredentialCreated(String eventId, String credentialId, String accountId, long version, Instant at,
                             String name, List<String> privileges, List<String> itemAccess, List<String> referrers)
            implements CredentialEvent {
    }

    @EventType("privileges-changed")
    record PrivilegesChanged(String eventId, String credentialId, String accountId, long version, Instant at,
                             List<String> privileges) implements CredentialEvent {
    }

    @EventType("item-access-changed")
    record ItemAccessChanged(String eventId, String credentialId, String accountId, long version, Instant at,
                             List<String> itemAccess) implements CredentialEvent {
    }

    @EventType("referrers-changed")
    record ReferrersChanged(String eventId, String credentialId, String accountId, long version, Instant at,
                            List<String> referrers) implements CredentialEvent {
    }

    @EventType("key-created")
    record KeyCreated(String eventId, String credentialId, String accountId, long version, Instant at,
                      int slot, String keyId, Instant expiresAt) implements CredentialEvent {
    }

    @EventType("key-regenerated")
    record KeyRegenerated(String eventId, String credentialId, String accountId, long version, Instant at,
                          int slot, String keyId, String previousKeyId, Instant expiresAt) implements CredentialEvent {
    }

    /** {@code reason}: invalidated, regenerated, privileges-changed, item-access-changed or credential-deleted. */
    @EventType("key-invalidated")
    record KeyInvalidated(String eventId, String credentialId, String accountId, long version, Instant at,
                          int slot, String keyId, String reason) implements CredentialEvent {
    }

    @EventType("key-expired")
    record KeyExpired(String eventId, String credentialId, String accountId, long version, Instant at,
                      int slot, String keyId, Instant expiresAt) implements CredentialEvent {
    }

    @EventType("key-expiring")
    record KeyExpiring(String eventId, String credentialId, String accountId, long version, Instant at,
                       int slot, String keyId, Instant expiresAt) implements CredentialEvent {
    }

    @EventType("credential-deleted")
    record CredentialDeleted(String eventId, String credentialId, String accountId, long version, Instant at)
            implements CredentialEvent {
    }
}
