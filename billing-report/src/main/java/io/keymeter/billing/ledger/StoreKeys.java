package io.keymeter.billing.ledger;

import io.keymeter.billing.cycles.BillingCycle;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Locale;

/**
 * Keys of the billing stores. Every key starts with {@code accountId/} (account ids have no slash), so one prefix
 * scan reads one account's data, and {@code accountId/cycle/} one account's cycle.
 */
public final class StoreKeys {

    private StoreKeys() {
    }

    /** {@code accountId/cycle/credentialId/service/date}. */
    public static String usage(String accountId, String credentialId, String service, LocalDate date) {
        return accountId + "/" + BillingCycle.of(date).id() + "/" + credentialId + "/" + service + "/" + date;
    }

    /** {@code accountId/cycle/}: the prefix of an account's usage, rejections or statements in one cycle. */
    public static String cyclePrefix(String accountId, BillingCycle cycle) {
        return accountId + "/" + cycle.id() + "/";
    }

    /** {@code accountId/cycle}. */
    public static String cycle(String accountId, BillingCycle cycle) {
        return accountId + "/" + cycle.id();
    }

    /** {@code accountId/credentialId}. */
    public static String credential(String accountId, String credentialId) {
        return accountId + "/" + credentialId;
    }

    /** {@code accountId/cycle/credentialId}. */
    public static String rejections(String accountId, BillingCycle cycle, String credentialId) {
        return cyclePrefix(accountId, cycle) + credentialId;
    }

    /** {@code accountId/cycle/credentialId/reason}, the reason's code (no slash in it). */
    public static String rejectionReason(String accountId, BillingCycle cycle, String credentialId, String reason) {
        return rejections(accountId, cycle, credentialId) + "/" + reason;
    }

    /**
     * {@code accountId/cycle/credentialId/keyId/}: the runs of uses of one key in the cycle of their last use; each
     * run's alert is kept under this prefix plus its first use (epoch millis). A run metering counts again from 1 (it
     * forgot the key after a long quiet) is a row of its own, not a smaller count over the earlier one. Not by reason:
     * metering counts a key's run on when its uses change from expired to invalidated, and a row per reason showed
     * the expired uses twice.
     */
    public static String alertPrefix(String accountId, BillingCycle cycle, String credentialId, String keyId) {
        return cyclePrefix(accountId, cycle) + credentialId + "/" + keyId + "/";
    }

    /**
     * {@code accountId/cycle/NNNN}: statements in the order they were issued, from 0000. From 10000 on (late usage
     * trickling in for a closed cycle can bring an adjustment every punctuation, 10 s) {@code ~NNNNNNNNNN}: '~' sorts
     * after every digit, so these follow the four-digit keys already written, in order (as {@code 10000} they sorted
     * between {@code 1000} and {@code 1001}).
     */
    public static String statement(String accountId, BillingCycle cycle, int sequence) {
        return cyclePrefix(accountId, cycle) + (sequence < 10_000 ? String.format(Locale.ROOT, "%04d", sequence)
                : String.format(Locale.ROOT, "~%010d", sequence));
    }

    /**
     * {@code <closesAt millis, 15 digits>/accountId/cycle}: pending work sorted by when it is due, so the
     * punctuator reads only what is due and stops at the first key in the future.
     */
    public static String pending(Instant dueAt, String accountId, BillingCycle cycle) {
        return String.format(Locale.ROOT, "%015d", Math.max(0, dueAt.toEpochMilli())) + "/" + cycle(accountId, cycle);
    }

    public static long pendingDueAt(String key) {
        return Long.parseLong(key.substring(0, key.indexOf('/')));
    }

    /** The account and cycle of a pending key. */
    public static String[] pendingAccountAndCycle(String key) {
        String rest = key.substring(key.indexOf('/') + 1);
        int slash = rest.lastIndexOf('/');
        return new String[] {rest.substring(0, slash), rest.substring(slash + 1)};
    }

    /** A usage key split into its parts; the credential id is what lies between cycle and service. */
    public record UsageKey(String accountId, String cycle, String credentialId, String service, LocalDate date) {

        public static UsageKey parse(String key) {
            int first = key.indexOf('/');
            int second = key.indexOf('/', first + 1);
            int last = key.lastIndexOf('/');
            int beforeLast = key.lastIndexOf('/', last - 1);
            return new UsageKey(key.substring(0, first), key.substring(first + 1, second),
                    key.substring(second + 1, beforeLast), key.substring(beforeLast + 1, last),
                    LocalDate.parse(key.substring(last + 1)));
        }
    }
}
