package io.keymeter.benchmarks;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * One open-loop run's schedule and tally, shared by both {@link LoadClient}s: request i is due at
 * {@code start + i / rate}; the requests of the warm-up are sent but not recorded. Thread-safe.
 */
final class LoadSchedule {

    private static final long HIGHEST = TimeUnit.MINUTES.toNanos(5);

    final int total;
    private final long interval;
    private final int first;
    private final long start;
    private final long gcBefore = gcMillis();
    private final Histogram response = new ConcurrentHistogram(HIGHEST, 3);
    private final Histogram service = new ConcurrentHistogram(HIGHEST, 3);
    private final Histogram lag = new ConcurrentHistogram(HIGHEST, 3);
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong lastAnswer = new AtomicLong();

    LoadSchedule(int rate, Duration warmup, Duration measure) {
        interval = TimeUnit.SECONDS.toNanos(1) / rate;
        first = (int) (warmup.toNanos() / interval);
        total = first + (int) (measure.toNanos() / interval);
        start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
    }

    /** Parks until request i is due; its scheduled moment. */
    long awaitTurn(int i) {
        long scheduled = start + i * interval;
        long wait;
        while ((wait = scheduled - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
        return scheduled;
    }

    /** Request i left at {@code sent}. */
    void sent(int i, long scheduled, long sent) {
        if (i >= first) {
            lag.recordValue(Math.min(HIGHEST, sent - scheduled));
        }
    }

    /** Request i was answered now; {@code onWire} is when it went onto its connection. */
    void answered(int i, long scheduled, long onWire, boolean success) {
        long now = System.nanoTime();
        if (i >= first) {
            response.recordValue(Math.min(HIGHEST, now - scheduled));
            service.recordValue(Math.min(HIGHEST, now - onWire));
            lastAnswer.accumulateAndGet(now, Math::max);
            if (!success) {
                failed.incrementAndGet();
            }
        }
    }

    LoadClient.Result result(String name, int rate, long clientCpuNanos) {
        long measured = total - first;
        double seconds = (lastAnswer.get() - (start + first * interval)) / 1e9;
        return new LoadClient.Result(name, rate, measured, failed.get(), measured / seconds, response, service, lag,
                clientCpuNanos / 1e3 / total, gcMillis() - gcBefore);
    }

    /** Collection time of every collector of this JVM so far (pauses included), in ms. */
    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(gc -> Math.max(0, gc.getCollectionTime())).sum();
    }
}
