package io.keymeter.ingest.shipper;

import java.io.PrintStream;

/** A one-line progress bar redrawn in place with {@code \r}; only used when stdout is a terminal. */
final class ProgressBar {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final long started = System.nanoTime();
    private long lastDraw;

    ProgressBar(PrintStream out) {
        this.out = out;
    }

    /**
     * @param totalBytes bytes to send in all, or -1 when unknown (standard input)
     */
    void update(long lines, long bytesDone, long totalBytes, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        StringBuilder line = new StringBuilder("\r");
        if (totalBytes > 0) {
            double fraction = Math.min(1.0, (double) bytesDone / totalBytes);
            int filled = (int) Math.round(fraction * WIDTH);
            line.append('[').append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ")
                    .append(String.format("%3.0f%% ", fraction * 100));
        }
        line.append(String.format("%,d lines  %,.0f lines/s  %.1f MB", lines, lines / seconds, bytesDone / 1e6));
        out.print(line);
        out.flush();
    }

    void finish() {
        out.println();
    }
}
