package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.assertj.core.util.introspection.PropertyOrFieldSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.junit.jupiter.params.provider.CsvSource;

class BoundedRocksDbConfigSetterTest {

    @ParameterizedTest(name = "{0} MiB → {1} shard bits")
    @CsvSource({
            "1, 0",     // smaller than one minimum shard: a single shard
            "16, 0",
            "31, 0",
            "32, 1",
            "64, 2",    // the default: 4 shards of 16 MiB, where RocksDB's own choice is 64 of 1 MiB
            "100, 2",
            "1024, 6",
            "65536, 6", // never more than 64 shards
    })
    void shardsAreNeverSmallerThanTheMinimumNorMoreThanSixtyFour(long mebibytes, int expectedBits) {
        int bits = BoundedRocksDbConfigSetter.shardBits(mebibytes << 20);

        assertThat(bits).isEqualTo(expectedBits);
        if (bits > 0) {
            assertThat((mebibytes << 20) >> bits).isGreaterThanOrEqualTo(BoundedRocksDbConfigSetter.MIN_SHARD_BYTES);
        }
    }

    /** Each store reserved 4 MiB of disk for its MANIFEST while open: a small disk filled before any traffic. */
    @Test
    void aStoreReservesLittleDiskAheadForItsManifest() {
        RocksDB.loadLibrary();
        try (Options options = new Options()) {
            options.setTableFormatConfig(new BlockBasedTableConfig());
            long rocksDbDefault = options.manifestPreallocationSize();

            new BoundedRocksDbConfigSetter().setConfig("store", options, Map.of());

            assertThat(rocksDbDefault).isEqualTo(4L << 20);
            assertThat(options.manifestPreallocationSize()).isEqualTo(64L << 10);
        }
    }

    /**
     * The bound is the process's, not a store's: every store, each given its own setter as Kafka Streams does, gets
     * the one block cache and the one write-buffer manager (a cache a store would be 64 MiB more for each).
     */
    @Test
    void everyStoreGetsTheOneBlockCacheAndTheOneWriteBufferManager() {
        RocksDB.loadLibrary();
        try (Options first = new Options(); Options second = new Options()) {
            first.setTableFormatConfig(new BlockBasedTableConfig());
            second.setTableFormatConfig(new BlockBasedTableConfig());

            new BoundedRocksDbConfigSetter().setConfig("first", first, Map.of());
            new BoundedRocksDbConfigSetter().setConfig("second", second, Map.of());

            assertThat(first.writeBufferManager()).isNotNull().isSameAs(second.writeBufferManager());
            // RocksJava keeps the cache set on a table config without a getter
            Object cache = PropertyOrFieldSupport.EXTRACTION.getValueOf("blockCache", first.tableFormatConfig());
            assertThat(cache).isNotNull();
            assertThat(second.tableFormatConfig()).extracting("blockCache").isSameAs(cache);
        }
    }
}
