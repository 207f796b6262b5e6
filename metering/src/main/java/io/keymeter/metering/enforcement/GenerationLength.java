package io.keymeter.metering.enforcement;

import java.time.Duration;

/**
 * The length of the dedupe store's generations when the dedupe window may have changed since the store was written
 * (see {@link Deduplicator}, "A changed window").
 */
final class GenerationLength {

    /** Roundest first: a window is usually a whole number of days, hours or minutes. */
    private static final long[] UNITS = {Duration.ofDays(1).toMillis(), Duration.ofHours(1).toMillis(),
            Duration.ofMinutes(1).toMillis(), Duration.ofSeconds(1).toMillis(), 1};

    private GenerationLength() {
    }

    /**
     * The length a store that does not say so was written with, from its newest entry: written in {@code generation}
     * when request time was {@code firstSeen}, so {@code floor(firstSeen / length) == generation}. The window if it
     * fits (the common case: unchanged), else the roundest length that does; the window again if none can be told.
     */
    static long writtenWith(long generation, long firstSeen, long window) {
        if (Math.floorDiv(firstSeen, window) == generation || generation <= 0 || firstSeen < generation) {
            return window;
        }
        long longestShorter = firstSeen / (generation + 1); // every fitting length is longer than this
        long longest = firstSeen / generation;
        for (long unit : UNITS) {
            long candidate = (longestShorter / unit + 1) * unit;
            if (candidate <= longest && Math.floorDiv(firstSeen, candidate) == generation) {
                return candidate;
            }
        }
        return window;
    }

    /** How many generations of {@code length} a window can overlap: the ones a lookup may have to read. */
    static int span(long window, long length) {
        return Math.toIntExact((window - 1) / length + 2);
    }

    /**
     * Entries a generation's filter is sized for, from {@code capacity} a window: a generation of {@code length}
     * holds that share of a window's requests.
     */
    static long filterCapacity(long capacity, long window, long length) {
        return length == window ? capacity : (long) Math.ceil((double) capacity * length / window);
    }
}
