package io.keymeter.platform.streams;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The partitions of one topology whose active task is running on this instance: restored, with its processors
 * initialized. Interactive queries read a store only where it is running, since Kafka Streams 4.4 answers them from
 * an active task still in restoration as soon as its stream thread is RUNNING: a task corrupted while the thread runs
 * (a send failing under exactly-once, say) is closed dirty, its store wiped, and restored again from the changelog's
 * beginning while the thread stays RUNNING, and a read in that time saw an empty or half-restored store (a credential
 * answered 404, a usage report 200 with part of the usage).
 * <p>
 * The processor that owns the queried stores reports here: {@link #started} at the end of its {@code init}, which
 * Kafka Streams calls when the task completes its restoration, and {@link Registration#close()} in its
 * {@code close}, which it calls when the task is suspended or closed, clean or dirty (a corruption, a rebalance, a
 * stream thread's failure or shutdown). A standby task never initializes its processors, so it never counts. A count
 * per partition, not a flag: a replaced stream thread's old task can be closed after the new one started.
 */
public final class RunningPartitions {

    private final Map<Integer, Integer> counts = new ConcurrentHashMap<>();
    /** Every task started or closed here adds one, after its count changed. */
    private final AtomicLong changes = new AtomicLong();

    /** The task of {@code partition} has initialized its processors; close the registration when they close. */
    public Registration started(int partition) {
        counts.merge(partition, 1, Integer::sum);
        changes.incrementAndGet();
        return new Registration(partition);
    }

    /**
     * How many times a task started or closed here: a read that found it the same before and after, and its partition
     * running before, read from a task that ran all the while (one corrupted and restored meanwhile closed once).
     */
    public long changes() {
        return changes.get();
    }

    /** Whether an active task of {@code partition} is running here: its store is whole, as of its last commit. */
    public boolean isRunning(int partition) {
        return counts.getOrDefault(partition, 0) > 0;
    }

    /** The partitions running here now, for messages and tests. */
    public Set<Integer> running() {
        return Set.copyOf(counts.keySet());
    }

    @Override
    public String toString() {
        return "RunningPartitions" + counts;
    }

    /** One task's report; closing it more than once counts once. */
    public final class Registration implements AutoCloseable {

        private final int partition;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Registration(int partition) {
            this.partition = partition;
        }

        public int partition() {
            return partition;
        }

        /** The task's processors closed: its partition no longer runs here, unless another task of it does. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                counts.computeIfPresent(partition, (p, count) -> count > 1 ? count - 1 : null);
                changes.incrementAndGet();
            }
        }
    }
}
