package io.keymeter.ingest.http;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;

/**
 * Receives a batch's body, as sent (compressed or not), into memory before any Kafka work starts, so the time a
 * client takes to upload is not spent inside a Kafka transaction: a transaction is bounded (its watchdog, and the
 * broker's {@code transaction.timeout.ms}), an upload over a slow link is not, and a slow upload that held a pooled
 * producer kept it from every other batch.
 * <p>
 * Bounded: all bodies being received or ingested at once share {@code budget} bytes, taken in 64 KiB chunks. A
 * chunk that cannot be had within {@code wait} refuses the batch ({@link SpoolFullException}, a 503).
 */
@Component
final class BodySpool {

    static final int CHUNK = 64 * 1024;

    private final Semaphore chunks;
    private final Duration wait;

    /**
     * @param budget bytes of bodies held at once, all requests together (at least one chunk)
     * @param wait   how long a body waits for room before it is refused
     */
    BodySpool(long budget, Duration wait) {
        this.chunks = new Semaphore((int) Math.max(1, Math.min(Integer.MAX_VALUE, budget / CHUNK)));
        this.wait = wait;
    }

    @Autowired
    BodySpool(@Value("${keymeter.ingest.body-memory:256MB}") DataSize budget,
            @Value("${keymeter.ingest.publish.timeout:PT10S}") Duration wait) {
        this(budget.toBytes(), wait);
    }

    /** Reads {@code in} to its end. The caller closes the result, which gives its memory back. */
    Body receive(InputStream in) throws IOException {
        Body body = new Body();
        try {
            while (true) {
                byte[] chunk = body.nextChunk();
                int filled = in.readNBytes(chunk, 0, CHUNK);
                body.filled(filled);
                if (filled < CHUNK) {
                    return body;
                }
            }
        } catch (IOException | RuntimeException e) {
            body.close();
            throw e;
        }
    }

    /** Chunks free now; for tests. */
    int freeChunks() {
        return chunks.availablePermits();
    }

    /** A received body: read it with {@link #stream()}, then close it. */
    final class Body implements AutoCloseable {

        private final List<byte[]> parts = new ArrayList<>();
        private int lastLength;
        private boolean closed;

        private byte[] nextChunk() {
            try {
                if (!chunks.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new SpoolFullException();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SpoolFullException();
            }
            byte[] chunk = new byte[CHUNK];
            parts.add(chunk);
            return chunk;
        }

        private void filled(int length) {
            lastLength = length;
        }

        long size() {
            return parts.isEmpty() ? 0 : (long) (parts.size() - 1) * CHUNK + lastLength;
        }

        InputStream stream() {
            List<InputStream> streams = new ArrayList<>(parts.size());
            for (int i = 0; i < parts.size(); i++) {
                streams.add(new ByteArrayInputStream(parts.get(i), 0, i == parts.size() - 1 ? lastLength : CHUNK));
            }
            return new SequenceInputStream(Collections.enumeration(streams));
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                chunks.release(parts.size());
                parts.clear();
            }
        }
    }

    /** No room for the body within the wait: too much is being received at once. */
    static final class SpoolFullException extends RuntimeException {
        SpoolFullException() {
            super("too many batches are being received at once", null, false, false);
        }
    }
}
