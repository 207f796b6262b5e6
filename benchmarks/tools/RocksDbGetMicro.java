import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * RocksJava get() of missing and present keys, the call Kafka Streams makes (with a column family handle). A
 * single-file program, run against one rocksdbjni jar at a time (docs/benchmarks.md, session 4):
 * {@code java -cp ~/.m2/repository/org/rocksdb/rocksdbjni/<v>/rocksdbjni-<v>.jar benchmarks/tools/RocksDbGetMicro.java <v>}
 */
public class RocksDbGetMicro {

    private static final int KEYS = 100_000;
    private static final int LOOKUPS = 300_000;

    public static void main(String[] args) throws Exception {
        RocksDB.loadLibrary();
        Path dir = Files.createTempDirectory("rocksdb-get-micro");
        try (Options options = new Options().setCreateIfMissing(true); RocksDB db = RocksDB.open(options, dir.toString())) {
            for (int i = 0; i < KEYS; i++) {
                db.put(("hit-" + i).getBytes(), new byte[8]);
            }
            for (int round = 1; round <= 3; round++) { // the last round is the warm one
                int answered = 0;
                long start = System.nanoTime();
                for (int i = 0; i < LOOKUPS; i++) {
                    answered += db.get(db.getDefaultColumnFamily(), ("miss-" + i).getBytes()) == null ? 1 : 0;
                }
                long miss = System.nanoTime() - start;
                start = System.nanoTime();
                for (int i = 0; i < LOOKUPS; i++) {
                    answered += db.get(db.getDefaultColumnFamily(), ("hit-" + (i % KEYS)).getBytes()) != null ? 1 : 0;
                }
                long hit = System.nanoTime() - start;
                System.out.printf("rocksdbjni %s round %d: miss %.2f us, hit %.2f us (%d answered)%n",
                        args.length > 0 ? args[0] : "?", round, miss / 1e3 / LOOKUPS, hit / 1e3 / LOOKUPS, answered);
            }
        }
    }
}
