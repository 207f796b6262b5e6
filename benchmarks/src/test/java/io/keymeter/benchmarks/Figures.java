package io.keymeter.benchmarks;

import java.util.Arrays;
import java.util.Locale;
import org.HdrHistogram.AbstractHistogram;

/** Prints benchmark figures in one recognisable format: {@code BENCH name value unit}. */
public final class Figures {

    private Figures() {
    }

    public static void print(String name, double value, String unit) {
        System.out.printf(Locale.ROOT, "BENCH %-50s %14.2f %s%n", name, value, unit);
    }

    public static void ratio(String name, double value, double baseline) {
        System.out.printf(Locale.ROOT, "BENCH %-50s %14.3f x baseline%n", name, value / baseline);
    }

    /** p50, p99, p99.9 and max of a histogram of nanoseconds, in ms. */
    public static void latency(String name, AbstractHistogram nanos) {
        print(name + " p50", nanos.getValueAtPercentile(50) / 1e6, "ms");
        print(name + " p99", nanos.getValueAtPercentile(99) / 1e6, "ms");
        print(name + " p99.9", nanos.getValueAtPercentile(99.9) / 1e6, "ms");
        print(name + " max", nanos.getMaxValue() / 1e6, "ms");
    }

    /** The p-th percentile (0–100) of the samples, in the samples' unit. */
    public static double percentile(long[] samples, double p) {
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
