package io.keymeter.events;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * RFC 3339 parsing with a fast path for the form nearly every gateway writes ({@code 2026-11-26T10:15:30Z}, with
 * or without a fraction): {@link Instant#parse} showed up in the ingest profile, and Jackson's
 * {@code InstantDeserializer} (the same parser underneath) in metering's. The fast path answers only for that form,
 * exactly as {@link Instant#parse} would; everything else (offsets, leap seconds, odd forms) is left to the slow
 * path, which also decides what is invalid.
 */
public final class Timestamps {

    private Timestamps() {
    }

    /** As {@link Instant#parse}, faster for {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z}. */
    public static Instant parse(String s) {
        Instant fast = parseUtcFast(s);
        return fast != null ? fast : Instant.parse(s); // throws the same DateTimeParseException for what is invalid
    }

    /**
     * {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z} as the instant {@link Instant#parse} would give; null for any other text,
     * valid or not, which the caller's slow path then reads.
     */
    public static Instant parseUtcFast(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int fractionDigits = n - 21;
            if (s.charAt(19) != '.' || fractionDigits < 1 || fractionDigits > 9) {
                return null;
            }
            int fraction = digits(s, 20, fractionDigits);
            if (fraction < 0) {
                return null;
            }
            nanos = fraction;
            for (int i = fractionDigits; i < 9; i++) {
                nanos *= 10;
            }
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second, nanos).toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            return null; // 24:00, February 30th and the like: the slow path's to judge
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
