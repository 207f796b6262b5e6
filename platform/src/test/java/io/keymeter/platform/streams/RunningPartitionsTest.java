package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RunningPartitionsTest {

    private final RunningPartitions partitions = new RunningPartitions();

    @Test
    void aPartitionRunsFromItsTasksStartUntilItsClose() {
        assertThat(partitions.isRunning(2)).as("never started").isFalse();

        RunningPartitions.Registration task = partitions.started(2);

        assertThat(partitions.isRunning(2)).isTrue();
        assertThat(partitions.isRunning(1)).as("another partition").isFalse();
        assertThat(partitions.running()).containsExactly(2);
        assertThat(task.partition()).isEqualTo(2);

        task.close();

        assertThat(partitions.isRunning(2)).as("closed (suspended, or closed dirty on a corruption)").isFalse();
        assertThat(partitions.running()).isEmpty();
    }

    @Test
    void aPartitionRunsWhileAnyOfItsTasksDoes() {
        // a replaced stream thread's old task closed after the new one started
        RunningPartitions.Registration old = partitions.started(0);
        RunningPartitions.Registration replacement = partitions.started(0);

        old.close();
        assertThat(partitions.isRunning(0)).isTrue();

        replacement.close();
        assertThat(partitions.isRunning(0)).isFalse();
    }

    @Test
    void aRegistrationClosedTwiceCountsOnce() {
        RunningPartitions.Registration first = partitions.started(3);
        RunningPartitions.Registration second = partitions.started(3);

        first.close();
        first.close();

        assertThat(partitions.isRunning(3)).as("the second task still runs").isTrue();
        second.close();
        assertThat(partitions.isRunning(3)).isFalse();
    }

    /** Every start and close is a change, a second close of one registration none: what a read compares around it. */
    @Test
    void everyStartAndCloseIsAChange() {
        long before = partitions.changes();
        RunningPartitions.Registration task = partitions.started(1);
        assertThat(partitions.changes()).isEqualTo(before + 1);
        task.close();
        task.close();
        assertThat(partitions.changes()).isEqualTo(before + 2);
    }

    @Test
    void startsAndClosesFromManyThreadsBalance() throws Exception {
        int threads = 8;
        int rounds = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int partition = t % 2;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < rounds; i++) {
                        partitions.started(partition).close();
                    }
                    return null;
                }));
            }
            RunningPartitions.Registration held = partitions.started(1);
            go.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(partitions.isRunning(0)).isFalse();
            assertThat(partitions.isRunning(1)).as("the one still held").isTrue();
            held.close();
            assertThat(partitions.running()).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }
}
