package io.keymeter.platform.streams;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the memory of every RocksDB store in the process: one block cache shared by all stores, with memtables
 * charged against it through one write-buffer manager (Kafka Streams memory-management recipe). Sizes come from
 * {@code keymeter.streams.rocksdb-cache} and {@code keymeter.streams.rocksdb-write-buffers}.
 * <p>
 * The cache is cut into few, large shards ({@link #shardBits}). RocksDB's default cuts 64 MiB into 64 shards of
 * 1 MiB, each with its own LRU list and a tenth of it for index and filter blocks, and a store's whole-file bloom
 * filter is one block of about 10 bits a key, hundreds of KiB for the dedupe store's files: in a 1 MiB shard it was
 * evicted and read back from the file on lookup after lookup (1.8–7.6 % of the metering stream thread in profiles).
 * Lock contention, what many shards are for, does not arise with a stream thread or two.
 */
public class BoundedRocksDbConfigSetter implements RocksDBConfigSetter {

    public static final String CACHE_BYTES = "keymeter.rocksdb.cache.bytes";
    public static final String WRITE_BUFFER_BYTES = "keymeter.rocksdb.write.buffer.bytes";
    /** No cache shard smaller than this (and never more than RocksDB's default maximum of 64 shards). */
    static final long MIN_SHARD_BYTES = 16L << 20;
    private static final int MAX_SHARD_BITS = 6;
    /** Disk reserved ahead for a store's MANIFEST (RocksDB's default: 4 MiB). */
    static final long MANIFEST_PREALLOCATION_BYTES = 64L << 10;

    private static Cache cache;
    private static WriteBufferManager writeBufferManager;

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(sharedCache(configs));
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setWriteBufferManager(sharedWriteBufferManager(configs));
        options.setTableFormatConfig(table);
        options.setMaxWriteBufferNumber(2);
        // RocksDB reserves 4 MiB of disk for each store's MANIFEST while it is open: some 60 MB on a fresh start, 294
        // MB in a probe's run against 3.6 MB of data (a small disk filled before any traffic); it grows as needed
        options.setManifestPreallocationSize(MANIFEST_PREALLOCATION_BYTES);
    }

    @Override
    public void close(String storeName, Options options) {
        // the cache and the write-buffer manager are shared by every store and live as long as the process
    }

    private static synchronized Cache sharedCache(Map<String, Object> configs) {
        if (cache == null) {
            long capacity = bytes(configs, CACHE_BYTES, 64L << 20);
            cache = new LRUCache(capacity, shardBits(capacity), false, 0.1);
        }
        return cache;
    }

    private static synchronized WriteBufferManager sharedWriteBufferManager(Map<String, Object> configs) {
        if (writeBufferManager == null) {
            writeBufferManager = new WriteBufferManager(bytes(configs, WRITE_BUFFER_BYTES, 32L << 20), sharedCache(configs));
        }
        return writeBufferManager;
    }

    /** log2 of the number of cache shards: as many as keep each at least {@link #MIN_SHARD_BYTES}, at most 64. */
    static int shardBits(long capacity) {
        int bits = 0;
        while (bits < MAX_SHARD_BITS && capacity >> (bits + 1) >= MIN_SHARD_BYTES) {
            bits++;
        }
        return bits;
    }

    private static long bytes(Map<String, Object> configs, String key, long fallback) {
        Object value = configs.get(key);
        return value == null ? fallback : Long.parseLong(value.toString());
    }
}
