package io.keymeter.billing.ledger;

import io.keymeter.billing.cycles.BillingCycle;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Rejection;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.UsageDaily;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.List;
import org.apache.kafka.streams.KeyValue;

/**
 * Turns the four inputs into {@link BillingInput}s keyed by accountId. A record that cannot be attributed to an
 * account throws, so the platform's processing handler sends it to the dead-letter topic instead of losing it.
 */
public final class InputMappers {

    private InputMappers() {
    }

    /**
     * A usage-daily record. A tombstone (null value) means the day's totals are gone: it becomes zero totals, read
     * from the key {@code accountId/credentialId/service/YYYY-MM-DD}.
     */
    public static KeyValue<String, BillingInput> usage(String key, UsageDaily value) {
        UsageDaily usage = value != null ? value : zeroFromKey(key);
        if (usage.accountId() == null || usage.credentialId() == null || usage.service() == null || usage.date() == null) {
            throw new IllegalArgumentException("usage-daily record without accountId, credentialId, service or date");
        }
        if (usage.requests() < 0 || usage.units() < 0) {
            throw new IllegalArgumentException("usage-daily record with negative totals");
        }
        if (!BillingCycle.exists(YearMonth.from(usage.date()))) {
            // no cycle to bill it in; kept, its pending entry sorted first and failed every settlement after it
            throw new IllegalArgumentException("usage-daily record dated " + usage.date() + ", outside "
                    + BillingCycle.FIRST + ".." + BillingCycle.LAST);
        }
        return KeyValue.pair(usage.accountId(), new BillingInput.Usage(usage));
    }

    /**
     * Names from {@code credential-created}, deletions from {@code credential-deleted}; other events carry none. One
     * of those two without an account fails (it was dropped unseen).
     */
    public static List<KeyValue<String, BillingInput>> credential(String key, CredentialEvent event) {
        if ((event instanceof CredentialEvent.CredentialCreated || event instanceof CredentialEvent.CredentialDeleted)
                && event.accountId() == null) {
            throw new IllegalArgumentException(event.getClass().getSimpleName() + " without accountId");
        }
        if (event instanceof CredentialEvent.CredentialCreated created) {
            return List.of(KeyValue.pair(created.accountId(),
                    new BillingInput.CredentialNamed(created.credentialId(), created.name(), created.at(), false)));
        }
        if (event instanceof CredentialEvent.CredentialDeleted deleted) {
            return List.of(KeyValue.pair(deleted.accountId(),
                    new BillingInput.CredentialNamed(deleted.credentialId(), null, deleted.at(), true)));
        }
        return List.of();
    }

    /**
     * True for a rejection of a known credential; false for one of an unknown or malformed key, which belongs to no
     * account's bill. A credential's rejection without its account or time, or a record without a value, fails (it
     * was dropped unseen).
     */
    public static boolean attributable(String key, Rejection rejection) {
        if (rejection == null) {
            throw new IllegalArgumentException("rejection record without a value");
        }
        if (rejection.credentialId() == null) {
            return false;
        }
        if (rejection.accountId() == null || rejection.timestamp() == null) {
            throw new IllegalArgumentException("rejection of credential " + rejection.credentialId()
                    + " without accountId or timestamp");
        }
        return true;
    }

    public static KeyValue<String, BillingInput> rejection(String key, Rejection rejection) {
        return KeyValue.pair(rejection.accountId(), new BillingInput.Rejected(rejection.credentialId(),
                rejection.timestamp(), rejection.reason() == null ? null : rejection.reason().code()));
    }

    /**
     * A security alert, for the account's list of keys used after they died. One without its account, credential,
     * key, reason or times, or last seen outside the cycles billing knows, fails (it would be dropped unseen).
     */
    public static KeyValue<String, BillingInput> alert(String key, SecurityAlert alert) {
        if (alert == null) {
            throw new IllegalArgumentException("security alert record without a value");
        }
        if (alert.accountId() == null || alert.credentialId() == null || alert.keyId() == null || alert.reason() == null
                || alert.firstSeen() == null || alert.lastSeen() == null || alert.count() < 1) {
            throw new IllegalArgumentException("security alert without accountId, credentialId, keyId, reason, times "
                    + "or a count");
        }
        if (!BillingCycle.exists(YearMonth.from(alert.lastSeen().atZone(java.time.ZoneOffset.UTC)))) {
            throw new IllegalArgumentException("security alert last seen " + alert.lastSeen() + ", outside "
                    + BillingCycle.FIRST + ".." + BillingCycle.LAST);
        }
        return KeyValue.pair(alert.accountId(), new BillingInput.Alerted(alert));
    }

    private static UsageDaily zeroFromKey(String key) {
        if (key == null) {
            throw new IllegalArgumentException("usage-daily tombstone without a key");
        }
        int first = key.indexOf('/');
        int last = key.lastIndexOf('/');
        int beforeLast = key.lastIndexOf('/', last - 1);
        if (first < 0 || beforeLast <= first) {
            throw new IllegalArgumentException("usage-daily key is not accountId/credentialId/service/date");
        }
        try {
            return new UsageDaily(key.substring(0, first), key.substring(first + 1, beforeLast),
                    key.substring(beforeLast + 1, last), LocalDate.parse(key.substring(last + 1)), 0, 0);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("usage-daily key has no valid date");
        }
    }
}
