package io.keymeter.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/** Ingest's health follows the disk reserve: DOWN, with the figures, while batches are refused. */
class IngestHealthIndicatorTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void downWithTheFiguresWhileTheDiskIsShortAndUpOnceSpaceIsFreed() {
        AtomicLong free = new AtomicLong(100 * MIB);
        IngestHealthIndicator indicator = new IngestHealthIndicator(new DiskReserve(1024 * MIB, true, () -> false,
                free::get, Clock.systemUTC()));

        Health whileShort = indicator.health();
        assertThat(whileShort.getStatus()).isEqualTo(Status.DOWN);
        assertThat(whileShort.getDetails()).containsEntry("reason", "batches are refused: the data directory's disk "
                + "has 100 MiB free, less than keymeter.ingest.min-free-disk (1024 MiB)");

        free.set(2048 * MIB);
        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
    }
}
