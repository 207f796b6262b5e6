package io.keymeter.billing.ledger;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.UsageDaily;
import java.time.Instant;

/**
 * Everything billing learns about an account, re-keyed by accountId onto one repartition topic: one task owns
 * all of an account's usage, names, rejections and security alerts, so its reports and statements are read from one
 * place.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = BillingInput.Usage.class, name = "usage"),
        @JsonSubTypes.Type(value = BillingInput.CredentialNamed.class, name = "credential"),
        @JsonSubTypes.Type(value = BillingInput.Rejected.class, name = "rejected"),
        @JsonSubTypes.Type(value = BillingInput.Alerted.class, name = "alert")
})
public sealed interface BillingInput {

    /** The latest totals of one credential, service and day (replacing earlier totals of that day). */
    record Usage(UsageDaily usage) implements BillingInput {
    }

    /** A credential's name when created, or the fact it was deleted ({@code deleted}, name null). */
    record CredentialNamed(String credentialId, String name, Instant at, boolean deleted) implements BillingInput {
    }

    /**
     * One refused request of a known credential and its reason's code ({@code null} when read from the repartition
     * as an earlier version wrote it: counted, but under no reason).
     */
    record Rejected(String credentialId, Instant timestamp, String reason) implements BillingInput {
    }

    /** Metering's alert of a key used after it was invalidated or expired: its running count and first/last use. */
    record Alerted(SecurityAlert alert) implements BillingInput {
    }
}
