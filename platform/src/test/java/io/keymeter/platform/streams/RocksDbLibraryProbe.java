package io.keymeter.platform.streams;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;

/**
 * Run in a JVM of its own by {@link RocksDbLibraryTest} (a native library loads once a JVM): loads RocksDB as a
 * topology's start does, uses it, and prints the file its library was mapped from. With {@code hang} it then waits
 * to be killed; with {@code wait} it exits normally (its exit hooks run) once its standard input ends.
 */
public final class RocksDbLibraryProbe {

    private RocksDbLibraryProbe() {
    }

    public static void main(String[] args) throws Exception {
        RocksDbLibrary.loadUnder(Path.of(args[0]));
        RocksDB.loadLibrary();
        try (LRUCache cache = new LRUCache(1 << 20)) {
            System.out.println("usage=" + cache.getUsage()); // a native call: the library works
        }
        try (var maps = Files.lines(Path.of("/proc/self/maps"))) {
            maps.filter(line -> line.contains("rocksdbjni")).findFirst()
                    .ifPresent(line -> System.out.println("mapped=" + line.substring(line.indexOf('/'))));
        }
        System.out.println("ready");
        System.out.flush();
        if (args.length > 1 && args[1].equals("hang")) {
            Thread.sleep(Long.MAX_VALUE); // killed by the test
        }
        if (args.length > 1 && args[1].equals("wait")) {
            System.in.transferTo(OutputStream.nullOutputStream());
        }
    }
}
