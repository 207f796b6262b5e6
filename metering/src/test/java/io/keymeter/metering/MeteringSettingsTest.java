package io.keymeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.config.KeymeterProperties;
import org.junit.jupiter.api.Test;

class MeteringSettingsTest {

    private static final long MIB = 1024 * 1024;

    /** The largest capacity allowed started on a 768 MiB heap and ran the stream thread out of memory. */
    @Test
    void dedupeFiltersLargerThanHalfTheHeapStopStartUp() {
        assertThatThrownBy(() -> MeteringSettings.requireFiltersFitHeap(100_000_000, 6, 768 * MIB))
                .isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("keymeter.metering.dedupe-filter-capacity 100000000 sizes the dedupe's filters at"
                        + " 1371 MiB (two a partition, 6 partitions), more than half of this JVM's heap (768 MiB).");
        assertThatThrownBy(() -> MeteringSettings.requireFiltersFitHeap(1_000_000, 6, 26 * MIB))
                .isInstanceOf(StartupRefusedException.class);
    }

    /** The topology takes the cluster's partition count; the filters, sized per partition, are checked again. */
    @Test
    void theClustersPartitionCountReplacesTheConfiguredOneAndIsCheckedAgainstTheHeap() {
        KeymeterProperties properties = new KeymeterProperties(null, null, null, null, null, null, null, null, null,
                null, null);
        MeteringSettings configured = MeteringSettings.of(properties, MeteringSettings.DEFAULT_JOIN_GRACE, 6);
        MeteringSettings onCluster = configured.withRequestPartitions(12);
        assertThat(onCluster.requestPartitions()).isEqualTo(12);
        assertThat(onCluster.withRequestPartitions(6)).isEqualTo(configured);
        assertThatThrownBy(() -> configured.withRequestPartitions(1_000_000))
                .isInstanceOf(StartupRefusedException.class).hasMessageContaining("1000000 partitions");
    }

    @Test
    void theDefaultCapacityFitsASmallHeap() {
        assertThatCode(() -> MeteringSettings.requireFiltersFitHeap(1_000_000, 6, 28 * MIB)).doesNotThrowAnyException();
        assertThatCode(() -> MeteringSettings.requireFiltersFitHeap(0, 1000, MIB)).doesNotThrowAnyException();
    }
}
