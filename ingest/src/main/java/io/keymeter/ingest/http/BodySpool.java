package io.keymeter.ingest.http;

import io.keymeter.platform.config.CheckedAtStart;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
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
 * Bounded: all bodies being received or ingested at once share {@code budget} bytes, in 64 KiB chunks. A body with a
 * {@code Content-Length} reserves all its chunks at once (bodies that each hold part of the budget cannot then wait
 * for one another); one without takes them as it goes. A body waits at most {@code wait} for memory in all, then
 * is refused ({@link SpoolFullException}, a 503).
 */
@Component
final class BodySpool implements CheckedAtStart {

    static final int CHUNK = 64 * 1024;
    static final String PROPERTY = "keymeter.ingest.body-memory";

    private final Semaphore chunks;
    private final Duration wait;

    /**
     * @param budget bytes of bodies held at once, all requests together (at least one chunk)
     * @param wait   how long a body waits for memory, in all, before it is refused
     */
    BodySpool(long budget, Duration wait) {
        this.chunks = new Semaphore((int) Math.max(1, Math.min(Integer.MAX_VALUE, budget / CHUNK)));
        this.wait = wait;
    }

    @Autowired
    BodySpool(@Value("${" + PROPERTY + ":256MB}") DataSize budget,
            @Value("${keymeter.ingest.publish.timeout:PT10S}") Duration wait) {
        this(checked(budget), wait);
    }

    /** Less than the largest body and a body of that size could never be taken: a 503 for ever. */
    private static long checked(DataSize budget) {
        if (budget == null) { // given empty: it ended start-up in a NullPointerException's trace
            throw new IllegalArgumentException(PROPERTY + " is empty, not a size; leave it out for its default, 256MB");
        }
        if (budget.toBytes() < RequestsController.MAX_BODY) {
            throw new IllegalArgumentException(PROPERTY + " must be at least 16MB (the largest body), was "
                    + written(budget));
        }
        return budget.toBytes();
    }

    /** A size as its property is written: 8MB, not DataSize's 8388608B. */
    static String written(DataSize size) {
        long bytes = size.toBytes();
        return bytes != 0 && bytes % (1024 * 1024) == 0 ? size.toMegabytes() + "MB"
                : bytes != 0 && bytes % 1024 == 0 ? size.toKilobytes() + "KB" : bytes + "B";
    }

    /**
     * Reads {@code in} to its end. The caller closes the result, which gives its memory back.
     *
     * @param length the body's declared length ({@code Content-Length}), or -1
     */
    Body receive(InputStream in, long length) throws IOException {
        Body body = new Body(wait.toNanos());
        boolean received = false;
        try {
            if (length > 0) {
                // the caller refused a declared length over its limit, so this is at most that limit's chunks
                body.reserve((int) Math.min(Integer.MAX_VALUE, (length + CHUNK - 1) / CHUNK));
            }
            while (true) {
                int first = in.read(); // a byte first: a body that ends on a chunk's edge takes no empty chunk
                if (first < 0) {
                    received = true;
                    return body;
                }
                byte[] chunk = body.nextChunk();
                chunk[0] = (byte) first;
                int filled = 1 + in.readNBytes(chunk, 1, CHUNK - 1);
                body.filled(filled);
                if (filled < CHUNK) {
                    received = true;
                    return body;
                }
            }
        } finally {
            if (!received) {
                body.close(); // whatever ended the read, Errors too: the memory goes back
            }
        }
    }

    /** Chunks free now; for tests. */
    int freeChunks() {
        return chunks.availablePermits();
    }

    /** A received body: read it with {@link #stream()}, then close it. */
    final class Body implements AutoCloseable {

        private final List<byte[]> parts = new ArrayList<>();
        /** Chunks taken from the budget and not filled yet. */
        private int reserved;
        private long waitLeftNanos;
        private int lastLength;
        private boolean closed;

        private Body(long waitNanos) {
            this.waitLeftNanos = waitNanos;
        }

        private void reserve(int count) {
            take(count);
            reserved += count;
        }

        private byte[] nextChunk() {
            if (reserved == 0) {
                reserve(1);
            }
            byte[] chunk = new byte[CHUNK];
            parts.add(chunk);
            reserved--;
            return chunk;
        }

        private void take(int count) {
            long started = System.nanoTime();
            try {
                if (!chunks.tryAcquire(count, Math.max(0, waitLeftNanos), TimeUnit.NANOSECONDS)) {
                    throw new SpoolFullException();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SpoolFullException();
            } finally {
                waitLeftNanos -= System.nanoTime() - started;
            }
        }

        private void filled(int length) {
            lastLength = length;
        }

        long size() {
            return parts.isEmpty() ? 0 : (long) (parts.size() - 1) * CHUNK + lastLength;
        }

        /** The body as received; {@code available()} counts every byte left, not only the current chunk's. */
        InputStream stream() {
            return new ChunksStream(List.copyOf(parts), lastLength);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                chunks.release(parts.size() + reserved);
                parts.clear();
                reserved = 0;
            }
        }
    }

    /**
     * Reads the chunks one after another. Unlike a {@code SequenceInputStream} of them, {@code available()} answers for
     * the whole rest of the body: JDK 17's {@code GZIPInputStream} looks for a further gzip member only when its
     * source has bytes available or more than 26 are left in its buffer, so with the available bytes of the current
     * chunk only (none, once its buffer took the rest of it), every member after one that ended within 26 bytes of a
     * chunk's end was taken for the end of the body: its lines were lost behind a 202.
     */
    private static final class ChunksStream extends InputStream {

        private final List<byte[]> parts;
        private final int lastLength;
        private int part;
        private int position;
        private long left;

        ChunksStream(List<byte[]> parts, int lastLength) {
            this.parts = parts;
            this.lastLength = lastLength;
            this.left = parts.isEmpty() ? 0 : (long) (parts.size() - 1) * CHUNK + lastLength;
        }

        @Override
        public int read() {
            if (left == 0) {
                return -1;
            }
            nextPartIfRead();
            left--;
            return parts.get(part)[position++] & 0xff;
        }

        @Override
        public int read(byte[] into, int offset, int length) {
            Objects.checkFromIndexSize(offset, length, into.length);
            if (length == 0) {
                return 0;
            }
            if (left == 0) {
                return -1;
            }
            int copied = 0;
            while (copied < length && left > 0) {
                nextPartIfRead();
                int n = Math.min(length - copied, end() - position);
                System.arraycopy(parts.get(part), position, into, offset + copied, n);
                position += n;
                copied += n;
                left -= n;
            }
            return copied;
        }

        private void nextPartIfRead() {
            if (position == end()) {
                part++;
                position = 0;
            }
        }

        private int end() {
            return part == parts.size() - 1 ? lastLength : CHUNK;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, left);
        }
    }

    /** No room for the body within the wait: too much is being received at once. */
    static final class SpoolFullException extends RuntimeException {
        SpoolFullException() {
            super("too many batches are being received at once", null, false, false);
        }
    }
}
