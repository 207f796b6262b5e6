package io.keymeter.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** When batches are refused for the disk's sake, in which words, and which settings are taken. */
class DiskReserveTest {

    private static final long MIB = 1024 * 1024;
    private final AtomicLong free = new AtomicLong(5000 * MIB);
    private final AtomicInteger askedEmbedded = new AtomicInteger();

    private DiskReserve reserve(long minimum, boolean explicit, boolean embedded) {
        return new DiskReserve(minimum, explicit, () -> {
            askedEmbedded.incrementAndGet();
            return embedded;
        }, free::get, Clock.systemUTC());
    }

    @Test
    void byDefaultWithTheEmbeddedBrokerABatchIsRefusedWhileLessThanAGigabyteIsFree() {
        DiskReserve reserve = reserve(DiskReserve.parse(null).toBytes(), false, true);
        assertThat(reserve.refusal()).isEmpty();

        free.set(1024 * MIB - 1);
        assertThat(reserve.refusal()).hasValue("The disk of Keymeter's data directory has 1023 MiB free, less than "
                + "keymeter.ingest.min-free-disk (1024 MiB): batches are refused until space is freed, so that the "
                + "Kafka broker does not fill it and halt; nothing of this one was kept. Send it again later.");
        free.set(1024 * MIB);
        assertThat(reserve.refusal()).as("space freed").isEmpty();
        assertThat(askedEmbedded).as("asked once").hasValue(1);
    }

    @Test
    void byDefaultOnAClusterTheDiskIsNotWatchedButASettingGivenAppliesAnywhere() {
        free.set(0);
        assertThat(reserve(DiskReserve.DEFAULT.toBytes(), false, false).refusal()).isEmpty();
        assertThat(reserve(10 * MIB, true, false).refusal()).hasValueSatisfying(detail -> assertThat(detail)
                .startsWith("The disk of Keymeter's data directory has 0 MiB free, less than "
                        + "keymeter.ingest.min-free-disk (10 MiB)"));
        assertThat(reserve(0, true, true).refusal()).as("0: never").isEmpty();
    }

    @Test
    void theSettingIsASizeOrZeroAndNothingElse() {
        assertThat(DiskReserve.parse(null)).isEqualTo(DataSize.ofGigabytes(1));
        assertThat(DiskReserve.parse("512MB")).isEqualTo(DataSize.ofMegabytes(512));
        assertThat(DiskReserve.parse(" 2GB ")).isEqualTo(DataSize.ofGigabytes(2));
        assertThat(DiskReserve.parse("0")).isEqualTo(DataSize.ofBytes(0));
        assertThatThrownBy(() -> DiskReserve.parse("lots")).hasMessage("keymeter.ingest.min-free-disk must be a size "
                + "such as 1GB or 512MB, or 0 for never; was 'lots'");
        assertThatThrownBy(() -> DiskReserve.parse("")).hasMessageEndingWith("was '' (leave it out for its default, "
                + "1GB)");
        assertThatThrownBy(() -> DiskReserve.parse("-1GB")).hasMessage("keymeter.ingest.min-free-disk must not be "
                + "negative; was -1GB");
    }
}
