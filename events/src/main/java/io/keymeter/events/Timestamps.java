package io.keymeter.events;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * RFC 3339 parsing with a fast path for the form nearly every gateway writes ({@code 2026-11-26T10:15:30Z}, with
 * or without a fraction): {@link Instant#parse} showed up in the ingest profile, and Jackson's
 * {@code InstantDeserializer} (the same parser underneath) in metering's. The fast path answers only for that form,
 * exactly as {@link Instant#parse} would; RFC 3339's other forms (offsets, leap seconds, lower case) are left to the
 * slow path, and anything else is refused.
 */
public final class Timestamps {

    private Timestamps() {
    }

    /**
     * RFC 3339's date-time (section 5.6), upper or lower case: hours 00 to 23, seconds up to 60 (a leap second), a
     * fraction of 1 to 9 digits, {@code Z} or a numeric offset. {@link Instant#parse} also takes {@code 24:00:00}
     * (the next day) and a point without digits ({@code 10:15:30.Z}).
     */
    private static final Pattern RFC_3339 = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}[Tt]([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d{1,9})?([Zz]|[+-]([01]\\d|2[0-3]):[0-5]\\d)");

    /** Where the seconds start in an RFC 3339 date-time (its year has four digits). */
    private static final int SECOND = 17;
    private static final long SECONDS_A_DAY = 86_400;

    /** Why a request line's timestamp that is no RFC 3339 date-time is refused (ingest and verify alike). */
    public static final String NOT_RFC_3339 = "must be an RFC 3339 date-time such as 2026-11-26T10:15:30Z";
    /** Why one before 1970 is refused: metering can give such a request no record time. */
    public static final String BEFORE_1970 = "must not be before 1970-01-01T00:00:00Z";

    /** An RFC 3339 date-time as an instant, faster for {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z}. */
    public static Instant parse(String s) {
        Instant fast = parseUtcFast(s);
        if (fast != null) {
            return fast;
        }
        if (!isRfc3339(s)) {
            throw new DateTimeParseException("not an RFC 3339 date-time", s, 0);
        }
        if (s.startsWith("60", SECOND)) {
            return leapSecond(s);
        }
        return Instant.parse(s); // throws for what is still invalid (February 30th)
    }

    /**
     * Second 60 is a leap second, the last of a UTC day whatever the offset it is written with, read as 23:59:59 UTC
     * (as {@link Instant#parse} reads {@code 23:59:60Z}). {@link Instant#parse} looks for 23:59 in the local time: it
     * refused {@code 15:59:60-08:00}, RFC 3339's own example, and read {@code 23:59:60+02:00} as 21:59:59 UTC.
     */
    private static Instant leapSecond(String s) {
        Instant atFiftyNine = Instant.parse(s.substring(0, SECOND) + "59" + s.substring(SECOND + 2));
        if (Math.floorMod(atFiftyNine.getEpochSecond(), SECONDS_A_DAY) != SECONDS_A_DAY - 1) {
            throw new DateTimeParseException("second 60 is not the last second of a UTC day", s, SECOND);
        }
        return atFiftyNine;
    }

    /** Whether the text has the form of an RFC 3339 date-time (its date may still not exist). */
    public static boolean isRfc3339(String s) {
        return RFC_3339.matcher(s).matches();
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
