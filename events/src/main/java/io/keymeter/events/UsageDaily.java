package io.keymeter.events;

import java.time.LocalDate;

/** Accepted usage of one credential and service on one UTC day: the latest totals, on {@code keymeter.usage-daily}. */
public record UsageDaily(String accountId, String credentialId, String service, LocalDate date, long requests, long units) {

    /** The record key: {@code accountId/credentialId/service/YYYY-MM-DD}. */
    public String key() {
        return key(accountId, credentialId, service, date);
    }

    public static String key(String accountId, String credentialId, String service, LocalDate date) {
        return accountId + "/" + credentialId + "/" + service + "/" + date;
    }
}
