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
 */
public class BoundedRocksDbConfigSetter implements RocksDBConfigSetter {

    public static final String CACHE_BYTES = "keymeter.rocksdb.cache.bytes";
    public static final String WRITE_BUFFER_BYTES = "keymeter.rocksdb.write.buffer.bytes";

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
    }

    @Override
    public void close(String storeName, Options options) {
        // the cache and the write-buffer manager are shared by every store and live as long as the process
    }

    private static synchronized Cache sharedCache(Map<String, Object> configs) {
        if (cache == null) {
            cache = new LRUCache(bytes(configs, CACHE_BYTES, 64L << 20), -1, false, 0.1);
        }
        return cache;
    }

    private static synchronized WriteBufferManager sharedWriteBufferManager(Map<String, Object> configs) {
        if (writeBufferManager == null) {
            writeBufferManager = new WriteBufferManager(bytes(configs, WRITE_BUFFER_BYTES, 32L << 20), sharedCache(configs));
        }
        return writeBufferManager;
    }

    private static long bytes(Map<String, Object> configs, String key, long fallback) {
        Object value = configs.get(key);
        return value == null ? fallback : Long.parseLong(value.toString());
    }
}
