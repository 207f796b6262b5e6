package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;

/**
 * Decompressing a gzip batch: the reader ingest's {@code GzipBodies} is built on (Commons Compress'
 * {@code GzipCompressorInputStream}, concatenated members; ingest adds a 64 KiB buffer and a header guard that block
 * reads pass straight through) against JDK 17's {@code GZIPInputStream}, replaced because it dropped bytes after a
 * member silently, over the same 57 MiB of request lines (7.25 MiB compressed) in the same JVM.
 * {@code -Dbench.rounds=} rounds (default 6); the first ones are the JIT's warm-up.
 */
class GzipReadBenchmark {

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 6);

    @Test
    void decompressABatch() throws IOException {
        byte[] raw = lines(60_000_000);
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
            gzip.write(raw);
        }
        byte[] body = compressed.toByteArray();
        Figures.print("gzip-read.body", body.length / 1048576.0, "MiB compressed");
        for (int round = 1; round <= ROUNDS; round++) {
            long start = System.nanoTime();
            long jdk = drain(new GZIPInputStream(new ByteArrayInputStream(body), 64 * 1024));
            long middle = System.nanoTime();
            long ingest = drain(GzipCompressorInputStream.builder().setInputStream(new ByteArrayInputStream(body))
                    .setDecompressConcatenated(true).get());
            long end = System.nanoTime();
            assertThat(ingest).isEqualTo(jdk).isEqualTo(raw.length);
            double baseline = raw.length / 1048576.0 / ((middle - start) / 1e9);
            double reader = raw.length / 1048576.0 / ((end - middle) / 1e9);
            Figures.print("gzip-read.jdk.round-" + round, baseline, "MiB/s");
            Figures.print("gzip-read.ingest.round-" + round, reader, "MiB/s");
            Figures.ratio("gzip-read.ingest.vs.jdk.round-" + round, reader, baseline);
        }
    }

    /** About {@code bytes} of NDJSON request lines as gateways send them. */
    private static byte[] lines(int bytes) {
        StringBuilder text = new StringBuilder(bytes + 300);
        Random random = new Random(42);
        while (text.length() < bytes) {
            text.append("{\"requestId\":\"req-").append(random.nextLong()).append("\",\"apiKey\":\"km_abcdefghijklmnop_")
                    .append(Long.toHexString(random.nextLong())).append("\",\"service\":\"geocoding\",")
                    .append("\"operation\":\"findAddressCandidates\",\"units\":1,\"timestamp\":\"2026-12-03T10:15:30.123Z\"}\n");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        try (in) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
            }
        }
        return total;
    }
}
