package io.keymeter.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaClients;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.util.unit.DataSize;

/** When batches are refused for the disk's sake, in which words, and which settings are taken. */
@ExtendWith(OutputCaptureExtension.class)
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
        assertThat(reserve.refusal()).hasValue("The disk of Keymeter's data directory has less free space than "
                + "keymeter.ingest.min-free-disk: batches are refused until space is freed, so that the disk does not "
                + "fill up (a full disk stops Kafka and the state stores); nothing of this one was kept. Send it "
                + "again later.");
        free.set(1024 * MIB);
        assertThat(reserve.refusal()).as("space freed").isEmpty();
        assertThat(askedEmbedded).as("asked once").hasValue(1);
    }

    @Test
    void healthGivesTheFiguresWhileBatchesAreRefusedAndLogsNothing(CapturedOutput output) {
        DiskReserve reserve = reserve(1024 * MIB, true, false);
        assertThat(reserve.shortBecause()).isEmpty();

        free.set(1024 * MIB);
        assertThat(reserve.shortBecause()).as("the minimum itself is free").isEmpty();
        free.set(700 * MIB + 5);
        assertThat(reserve.shortBecause()).hasValue("batches are refused: the data directory's disk has 700 MiB free, "
                + "less than keymeter.ingest.min-free-disk (1024 MiB)");
        assertThat(reserve(1024 * MIB, false, false).shortBecause()).as("not watched on a cluster by default")
                .isEmpty();
        assertThat(output.getOut()).doesNotContain("refused");
    }

    @Test
    void byDefaultOnAClusterTheDiskIsNotWatchedButASettingGivenAppliesAnywhere() {
        free.set(0);
        assertThat(reserve(0, false, true).refusal()).isEmpty();
        assertThat(askedEmbedded).as("0: whether the broker is embedded does not matter").hasValue(0);
        assertThat(reserve(DiskReserve.DEFAULT.toBytes(), false, false).refusal()).isEmpty();
        assertThat(reserve(10 * MIB, true, false).refusal()).isPresent();
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

    /** Free space near the minimum moves with every compaction: the log must not follow each move. */
    @Test
    void theLogWarnsAtMostEveryFiveMinutesAndSaysOnceAfterEachWarningWhenBatchesAreTakenAgain(CapturedOutput output) {
        MovingClock clock = new MovingClock();
        DiskReserve reserve = new DiskReserve(1024 * MIB, false, () -> true, free::get, clock);
        for (int i = 0; i < 20; i++) { // 1 MiB either side of the minimum, batch after batch
            free.set(1024 * MIB + (i % 2 == 0 ? -MIB : MIB));
            assertThat(reserve.refusal().isPresent()).isEqualTo(i % 2 == 0);
            clock.now = clock.now.plusSeconds(1);
        }
        assertThat(count(output, "WARN")).isEqualTo(1);
        assertThat(count(output, "Batches are taken again")).isEqualTo(1);
        assertThat(output.getOut()).contains("has 1023 MiB free, less than keymeter.ingest.min-free-disk (1024 MiB): "
                + "batches are refused until space is freed");

        clock.now = clock.now.plus(DiskReserve.WARN_EVERY);
        free.set(0);
        reserve.refusal();
        assertThat(count(output, "WARN")).isEqualTo(2);
    }

    /** As Spring makes it: the setting as written, the disk of the data directory, the cluster asked when needed. */
    @Test
    void aSettingGivenIsTakenForTheDataDirectorysDiskWhateverTheCluster(@TempDir Path dir) {
        KeymeterProperties properties = dataDir(dir);
        assertThat(new DiskReserve("1000000TB", properties, clients(false), Clock.systemUTC()).refusal())
                .as("no disk has an exbibyte free").isPresent();
        assertThat(new DiskReserve("1B", properties, clients(false), Clock.systemUTC()).refusal())
                .as("the directory's disk has a byte free").isEmpty();
    }

    /** A directory not there has no usable space to the JDK: a disk with nothing free, whatever the machine's. */
    @Test
    void unsetTheDefaultIsTakenOnlyWithTheEmbeddedBroker(@TempDir Path dir) {
        KeymeterProperties properties = dataDir(dir.resolve("not-there"));
        assertThat(new DiskReserve(null, properties, clients(true), Clock.systemUTC()).shortBecause()).hasValue(
                "batches are refused: the data directory's disk has 0 MiB free, less than "
                        + "keymeter.ingest.min-free-disk (1024 MiB)");
        assertThat(new DiskReserve(null, properties, clients(false), Clock.systemUTC()).shortBecause()).isEmpty();
    }

    private static KeymeterProperties dataDir(Path dir) {
        return new KeymeterProperties(null, dir, null, null, null, null, null, null, null, null, null);
    }

    private static ObjectProvider<KafkaClients> clients(boolean embedded) {
        KafkaClients clients = new KafkaClients(() -> List.of("localhost:1"), new KafkaProperties()) {
            @Override
            public boolean embedded() {
                return embedded;
            }
        };
        return new StaticListableBeanFactory(Map.of("kafkaClients", clients)).getBeanProvider(KafkaClients.class);
    }

    private static int count(CapturedOutput output, String text) {
        return output.getOut().split(java.util.regex.Pattern.quote(text), -1).length - 1;
    }

    private static final class MovingClock extends Clock {
        private java.time.Instant now = java.time.Instant.parse("2026-12-06T12:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }
}
