package io.keymeter.platform;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** One task run on a daemon thread of its own at a fixed delay after each run, until closed with its owner. */
public final class PeriodicTask implements AutoCloseable {

    private final ScheduledExecutorService schedule;

    public PeriodicTask(String threadName, Duration firstAfter, Duration every, Runnable task) {
        schedule = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true); // never what keeps the JVM up
            return thread;
        });
        schedule.scheduleWithFixedDelay(task, firstAfter.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Interrupts a run under way; no other starts. */
    @Override
    public void close() {
        schedule.shutdownNow();
    }
}
