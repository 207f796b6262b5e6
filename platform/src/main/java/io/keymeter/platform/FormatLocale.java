package io.keymeter.platform;

import java.util.Locale;

/**
 * The JVM's default format locale, pinned to {@link Locale#US} when Keymeter starts.
 * <p>
 * Two reasons. Text meant for machines (store keys, log lines) must not change with the host: under ar-EG, for one,
 * {@code String.format("%d")} writes Arabic-Indic digits. And Kafka Streams 4.4 builds a log message with
 * {@code String.format} on every record of a task with an empty input partition, whatever the log level
 * ({@code PartitionGroup.readyToProcess}; each metering task's key-state partition is empty nearly always): the JDK's
 * {@code Formatter} keeps its zero digit only for en_US and otherwise builds a {@code DecimalFormatSymbols} for every
 * {@code %d}, so under the plain "en" a C or POSIX host gives Java, each such message cost twice as much
 * (docs/benchmarks.md, session 20).
 */
public final class FormatLocale {

    private FormatLocale() {
    }

    /** Sets the default {@link Locale.Category#FORMAT} locale to en_US; display texts keep the host's. */
    public static void pin() {
        Locale.setDefault(Locale.Category.FORMAT, Locale.US);
    }
}
