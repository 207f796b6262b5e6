package io.keymeter.platform;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Logs the first bad record, then at most one per {@link #INTERVAL}, each line saying how many were left out since
 * the one before: a flood of bad records costs a line every few seconds, not a line (or a stack trace) each. For
 * dead letters (platform's {@code DeadLetterHandler}) and key states verify cannot read.
 */
public final class SampledLog {

    public static final Duration INTERVAL = Duration.ofSeconds(10);

    private final Clock clock;
    private final Consumer<String> sink;
    private long nextLineAt = Long.MIN_VALUE;
    private long leftOut;

    public SampledLog(Clock clock, Consumer<String> sink) {
        this.clock = clock;
        this.sink = sink;
    }

    /** Called for each bad record; builds its line only when it is written. */
    public synchronized void record(Supplier<String> line) {
        long now = clock.millis();
        if (now < nextLineAt) {
            leftOut++;
            return;
        }
        sink.accept(leftOut == 0 ? line.get() : line.get() + " (" + leftOut + " more since the previous line)");
        leftOut = 0;
        nextLineAt = now + INTERVAL.toMillis();
    }
}
