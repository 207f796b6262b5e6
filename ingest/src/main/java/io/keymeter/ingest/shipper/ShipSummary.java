package io.keymeter.ingest.shipper;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What a run did: lines sent, accepted, rejected by reason, with the first rejected lines as examples. */
final class ShipSummary {

    static final int MAX_EXAMPLES = 20;

    long batches;
    long sent;
    long accepted;
    long rejected;
    long retries;
    long skippedBytes;
    final Map<String, Long> reasons = new TreeMap<>();
    final List<String> examples = new ArrayList<>();

    void rejected(String where, long line, String error) {
        rejected++;
        reasons.merge(error, 1L, Long::sum);
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(where + ":" + line + ": " + error);
        }
    }

    void print(PrintStream out, double seconds) {
        out.printf("sent %,d lines in %,d batches (%.1f s, %,.0f lines/s)%n", sent, batches, seconds,
                seconds > 0 ? sent / seconds : 0);
        out.printf("accepted %,d, rejected %,d%s%n", accepted, rejected, retries > 0 ? ", " + retries + " retries" : "");
        if (skippedBytes > 0) {
            out.printf("resumed: skipped %,d bytes acknowledged by an earlier run%n", skippedBytes);
        }
        reasons.forEach((reason, count) -> out.printf("  %,8d  %s%n", count, reason));
        if (!examples.isEmpty()) {
            out.println("first rejected lines:");
            examples.forEach(e -> out.println("  " + e));
        }
    }
}
