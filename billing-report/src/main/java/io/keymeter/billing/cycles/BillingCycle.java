package io.keymeter.billing.cycles;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** A billing cycle: a calendar month in UTC, id {@code YYYY-MM}, from its first instant to the next month's. */
public record BillingCycle(YearMonth month) implements Comparable<BillingCycle> {

    private static final Pattern ID = Pattern.compile("\\d{4}-(0[1-9]|1[0-2])");
    /**
     * The cycles there are: from the Unix epoch, and ending before year 10000, whose first instant an RFC 3339 time
     * cannot write ({@code 9999-12} answered {@code "end":"+10000-01-01T00:00:00Z"}).
     */
    public static final YearMonth FIRST = YearMonth.of(1970, 1);
    public static final YearMonth LAST = YearMonth.of(9998, 12);

    /** The cycle of an id, or empty for anything but {@code YYYY-MM} with a month 01–12, from FIRST to LAST. */
    public static Optional<BillingCycle> parse(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            return Optional.empty();
        }
        YearMonth month = YearMonth.parse(id);
        return exists(month) ? Optional.of(new BillingCycle(month)) : Optional.empty();
    }

    /** Whether a month is one of the cycles there are, FIRST to LAST. */
    public static boolean exists(YearMonth month) {
        return !month.isBefore(FIRST) && !month.isAfter(LAST);
    }

    public static BillingCycle of(LocalDate day) {
        return new BillingCycle(YearMonth.from(day));
    }

    public static BillingCycle of(Instant instant) {
        return of(LocalDate.ofInstant(instant, ZoneOffset.UTC));
    }

    public static BillingCycle current(Clock clock) {
        return of(clock.instant());
    }

    public String id() {
        return month.toString();
    }

    /** The first instant of the cycle. */
    public Instant start() {
        return month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /** The first instant after the cycle (exclusive end). */
    public Instant end() {
        return month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /** When the cycle closes: its end plus the grace for late usage. */
    public Instant closesAt(Duration grace) {
        return end().plus(grace);
    }

    public boolean contains(LocalDate day) {
        return YearMonth.from(day).equals(month);
    }

    /** Every day of the cycle up to and including {@code today}: all of them for a past cycle, none for a future one. */
    public List<LocalDate> daysUpTo(LocalDate today) {
        LocalDate first = month.atDay(1);
        LocalDate last = month.atEndOfMonth();
        LocalDate until = today.isBefore(last) ? today : last;
        return until.isBefore(first) ? List.of() : first.datesUntil(until.plusDays(1)).toList();
    }

    @Override
    public int compareTo(BillingCycle other) {
        return month.compareTo(other.month);
    }

    @Override
    public String toString() {
        return id();
    }
}
