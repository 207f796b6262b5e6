package io.keymeter.ingest.parse;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * RFC 3339 parsing with a fast path for the form nearly every gateway writes ({@code 2026-11-26T10:15:30Z}, with
 * or without a fraction): {@link Instant#parse} showed up in the ingest profile. Anything else (offsets, leap
 * seconds, odd forms) goes to {@link Instant#parse}, which also decides what is invalid; so both paths accept
 * exactly the same strings with the same result.
 */
final class Timestamps {

    private Timestamps() {
    }

    static Instant parse(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return Instant.parse(s);
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || second > 59) {
            return Instant.parse(s);
        }
        int nanos = 0;
        if (n > 20) {
            int fractionDigits = n - 21;
            if (s.charAt(19) != '.' || fractionDigits < 1 || fractionDigits > 9) {
                return Instant.parse(s);
            }
            int fraction = digits(s, 20, fractionDigits);
            if (fraction < 0) {
                return Instant.parse(s);
            }
            nanos = fraction;
            for (int i = fractionDigits; i < 9; i++) {
                nanos *= 10;
            }
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second, nanos).toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            return Instant.parse(s); // throws the same DateTimeParseException the slow path would
        }
    }

    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
