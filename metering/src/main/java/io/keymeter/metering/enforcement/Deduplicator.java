package io.keymeter.metering.enforcement;

import io.keymeter.events.RequestLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Forwards the first request with a given keyId and {@code requestId} and drops repeats seen within the dedupe
 * window.
 * <p>
 * <b>Per key.</b> A request is identified by its keyId and requestId: a resend is the same log line, so the same key,
 * and the same requestId sent for two different keys is two requests, both billed. (Deduplicating on the requestId
 * alone would have dropped such a pair only when the two keys happened to share a partition.)
 * <p>
 * <b>When a request was seen.</b> The store keeps, per request, the request time when it was first seen: the newest
 * request timestamp this task had processed by then (a request always travels with its keyId, so this is
 * partition-local). Not the request's own time: a request up to max-age old is still remembered for the whole window
 * after it arrives. Not the task's stream time either: that includes the key-state partition, whose records can run
 * days ahead of a request backlog (metering catching up after an outage), and would end the window of requests seen
 * just before the outage (the crash test found resends counted twice that way).
 * <p>
 * <b>Generations, so that forgetting keeps up.</b> Request time is cut into generations one window long (the
 * window the store was first written with: see below), and each entry's key starts with the generation it was
 * written in:
 * {@code [generation, 8 bytes][requestId, UTF-8][keyId, UTF-8][keyId length, 2 bytes]} (the requestId first, so
 * ids that a gateway numbers in order are written in key order; keyId first ran 13–24 % slower in the benchmark).
 * A request looks itself up in the current generation and the one before (two point lookups; anything older has left
 * the window), and is written to the current one. Every generation two or more behind is wholly expired, and it sorts
 * first, so the sweeper deletes from the front of the store without visiting a live entry, up to twice as many entries
 * a second as were written (at least {@link #SWEEP_MIN_BATCH}): at a steady rate the store holds 1.5 to 2 windows of
 * requests, whatever the rate. (The sweep it replaces visited the whole store in key order, 10,000 entries a second per
 * task; at R requests a second per partition the store settled near {@code 1 / (1 - R / 20,000)} windows and grew
 * without bound from 20,000 a second.)
 * <p>
 * <b>Filters before lookups.</b> Nearly every request is new, and each of its two lookups would miss. An in-memory
 * Bloom filter per generation ({@link SeenRequestFilters}) answers "never written" without touching the store; only a
 * "maybe" (a resend, or about 1 % of new requests) is looked up. Filters hold what this task wrote since it started;
 * after a restart the entries already in the store are read back into them in batches on a wall-clock punctuation,
 * and until that is done lookups go to the store as before.
 * <p>
 * <b>A changed window.</b> The store keeps the generation length it was written with under
 * {@link #GENERATION_LENGTH_KEY} (after every entry; an empty store takes the window's). Lookups read every
 * generation that overlaps the window and the sweep deletes those wholly before it, so a window raised or lowered
 * since is applied at once: a resend within the new window of its first sighting is dropped and nothing older is
 * kept. (Generations computed with the new length would have missed every entry written before, and the request
 * time resumed at {@code newest generation × new window}, decades ahead after a raise, which stopped the sweep.)
 * A store from a version without the stored length takes it from its newest entry ({@link GenerationLength}).
 * <p>
 * <b>After a restart</b> the request time starts again where it stood, less under a second: the store keeps it
 * under {@link #REQUEST_TIME_KEY}, written whenever it enters a new second, so with the entries of the same commit
 * (from the start of the newest generation until a store written before this has its first request since). Never
 * later than before the restart, so entries only look younger, and every entry written before the restart stays
 * within the generations a lookup reads, even when the first request after it is older than the ones before.
 * (Resumed at the start of the newest generation, a request first seen after the restart, before request time
 * caught up, was remembered from that start: a window shortened by up to a whole one, and a resend within it billed
 * twice.) A version before this one reads the key as an old request's entry ({@link #REQUEST_TIME_KEY}).
 * Nothing but a repeat is dropped: a request without a requestId passes. A request stamped too far ahead of this
 * instance's clock, or with units ingest would refuse, is failed before it can move request time (see
 * {@link RequestBounds}).
 */
public final class Deduplicator implements FixedKeyProcessor<String, ArrivedRequest, ArrivedRequest> {

    static final Duration SWEEP_INTERVAL = Duration.ofSeconds(1);
    /** After a restart, store entries read back into the filters every interval, a batch at a time. */
    static final Duration REBUILD_INTERVAL = Duration.ofMillis(100);
    static final int REBUILD_BATCH = 20_000;
    /** Expired entries a sweep may delete at least; at any rate it may delete this many per request written. */
    static final int SWEEP_MIN_BATCH = 10_000;
    static final int SWEEP_PER_WRITE = 2;
    private static final int GENERATION_BYTES = Long.BYTES;
    private static final int KEY_ID_LENGTH_BYTES = Short.BYTES;
    private static final int KEY_ID_MAX_BYTES = 0xFFFF;

    private final String storeName;
    private final long windowMs;
    /** Length of the store's generations, set when the task resumes; the window's until then. */
    private long generationMs;
    private final int sweepMinBatch;
    private final long filterCapacity;
    private final RequestBounds bounds;
    private final Runnable onDuplicate;
    private SeenRequestFilters filters;
    private FixedKeyProcessorContext<String, ArrivedRequest> context;
    private KeyValueStore<Bytes, Long> seen;
    private long requestTime = Long.MIN_VALUE;
    /** The second of request time last kept under {@link #REQUEST_TIME_KEY}. */
    private long keptSecond = Long.MIN_VALUE;
    private boolean resumed;
    private long writesSinceSweep;
    private Bytes sweepFrom;

    /**
     * @param filterCapacity requests a generation's in-memory filter holds per task (0: no filters)
     * @param bounds         refuses a request stamped too far ahead of this instance's clock, with bad units, or not
     *                       keyed and partitioned by a keyId
     * @param onDuplicate    told of every resend dropped, so drops are counted
     */
    public Deduplicator(String storeName, Duration window, long filterCapacity, RequestBounds bounds,
                        Runnable onDuplicate) {
        this(storeName, window, filterCapacity, SWEEP_MIN_BATCH, bounds, onDuplicate);
    }

    Deduplicator(String storeName, Duration window, long filterCapacity, int sweepMinBatch, RequestBounds bounds,
                 Runnable onDuplicate) {
        this.storeName = storeName;
        this.windowMs = window.toMillis();
        this.generationMs = windowMs;
        this.filterCapacity = filterCapacity;
        this.sweepMinBatch = sweepMinBatch;
        this.bounds = bounds;
        this.onDuplicate = onDuplicate;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, ArrivedRequest> context) {
        this.context = context;
        this.seen = context.getStateStore(storeName);
        // (re)initialised after every restore, whatever the filters knew is gone: resume reads the store again.
        // Kafka Streams revives a corrupted task (a commit timed out under exactly-once) with these same objects on
        // a store rolled back to its last commit: request time and the sweep's place start again from the store, as
        // after a crash (request time left where the aborted transaction took it made a replayed resend new: billed
        // twice)
        this.filters = new SeenRequestFilters(filterCapacity, 2);
        this.resumed = false;
        this.requestTime = Long.MIN_VALUE;
        this.keptSecond = Long.MIN_VALUE;
        this.sweepFrom = null;
        this.writesSinceSweep = 0;
        context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> sweep());
        context.schedule(REBUILD_INTERVAL, PunctuationType.WALL_CLOCK_TIME,
                now -> filters.rebuild(seen, REBUILD_BATCH));
    }

    @Override
    public void process(FixedKeyRecord<String, ArrivedRequest> record) {
        RequestLog request = record.value() == null ? null : record.value().log();
        if (request == null) {
            // a tombstone on the request log is not a request: fail it so it lands on the dead-letter topic
            throw new IllegalArgumentException("request record without a value");
        }
        if (request.timestamp() == null) {
            // judged and counted at its event time, which the timestamp extractor took from the record
            request = request.withTimestampIfMissing(record.timestamp());
            record = record.withValue(record.value().withLog(request));
        }
        // the task's partition is the request's: the task reads one partition of each topic it joins
        bounds.check(record.key(), context.taskId().partition(), request, record.timestamp(),
                context.currentSystemTimeMs());
        if (request.requestId() == null) {
            context.forward(record);
            return;
        }
        resumeRequestTime();
        requestTime = Math.max(requestTime, record.timestamp());
        keepRequestTime();
        if (seenWithinWindow(identity(request.keyId(), request.requestId()), requestTime)) {
            onDuplicate.run(); // a resend within the window: already counted
            return;
        }
        context.forward(record);
    }

    /**
     * Looks the request up in every generation the window overlaps (the current and the previous one when the store's
     * generations are one window long), newest first, each only if its filter says it may be there; records it in
     * the current one if new.
     */
    private boolean seenWithinWindow(byte[] id, long now) {
        long generation = generationOf(now);
        Bytes current = key(generation, id);
        Long firstSeen = lookUp(generation, current);
        if (firstSeen == null) {
            long oldest = oldestLive(now);
            for (long older = generation - 1; firstSeen == null && older >= oldest; older--) {
                firstSeen = lookUp(older, key(older, id));
            }
        }
        if (firstSeen != null && firstSeen > now - windowMs) {
            return true;
        }
        seen.put(current, now);
        filters.add(generation, current);
        writesSinceSweep++;
        return false;
    }

    private Long lookUp(long generation, Bytes key) {
        return filters.mightContain(generation, key) ? seen.get(key) : null;
    }

    /** The oldest generation holding entries that can still be within the window at request time {@code now}. */
    private long oldestLive(long now) {
        return generationOf(now - windowMs + 1);
    }

    /**
     * Once per task start: the store's generation length, and the request time kept in the store, or the start of the
     * newest generation in it when none is kept (see the class comment).
     */
    private void resumeRequestTime() {
        if (resumed) {
            return;
        }
        resumed = true;
        Long stored = seen.get(GENERATION_LENGTH_KEY);
        KeyValue<Bytes, Long> newest = newestEntry();
        long newestGeneration = newest == null ? 0 : generationOf(newest.key);
        generationMs = newest == null ? windowMs
                : stored != null ? stored
                : GenerationLength.writtenWith(newestGeneration, newest.value, windowMs);
        if (stored == null || stored != generationMs) {
            seen.put(GENERATION_LENGTH_KEY, generationMs);
        }
        filters = new SeenRequestFilters(GenerationLength.filterCapacity(filterCapacity, windowMs, generationMs),
                GenerationLength.span(windowMs, generationMs));
        if (newest != null) {
            requestTime = Math.max(requestTime, Math.multiplyExact(newestGeneration, generationMs));
            filters.restart(newestGeneration);
        }
        Long kept = seen.get(REQUEST_TIME_KEY);
        if (kept != null) {
            requestTime = Math.max(requestTime, kept);
            keptSecond = Math.floorDiv(kept, 1000L);
        }
    }

    /** Keeps request time in the store whenever it enters a new second: one write a second of it, not one a request. */
    private void keepRequestTime() {
        long second = Math.floorDiv(requestTime, 1000L);
        if (second > keptSecond) {
            seen.put(REQUEST_TIME_KEY, requestTime);
            keptSecond = second;
        }
    }

    /** The request entry with the largest key: one of the newest generation's. */
    private KeyValue<Bytes, Long> newestEntry() {
        try (KeyValueIterator<Bytes, Long> entries = seen.reverseAll()) {
            while (entries.hasNext()) {
                KeyValue<Bytes, Long> entry = entries.next();
                if (isRequest(entry.key)) {
                    return entry;
                }
            }
            return null;
        }
    }

    /**
     * Deletes entries of generations two or more behind the current one, from the front of the store, up to
     * {@code max(min batch, 2 × writes since the last sweep)} at a time so that no punctuation stalls the task.
     */
    void sweep() {
        if (requestTime == Long.MIN_VALUE) {
            return; // nothing processed since (re)start: no notion of time yet
        }
        long firstLive = oldestLive(requestTime);
        long budget = Math.max(sweepMinBatch, SWEEP_PER_WRITE * writesSinceSweep);
        writesSinceSweep = 0;
        List<Bytes> expired = new ArrayList<>();
        Bytes resumeAt = firstKeyOf(firstLive);
        try (KeyValueIterator<Bytes, Long> entries = sweepFrom == null ? seen.all() : seen.range(sweepFrom, null)) {
            while (entries.hasNext() && generationOf(entries.peekNextKey()) < firstLive) {
                if (!isRequest(entries.peekNextKey())) {
                    entries.next(); // the kept request time, in generation 0: kept
                    continue;
                }
                if (expired.size() == budget) {
                    resumeAt = entries.peekNextKey(); // still expired: the next sweep goes on from here
                    break;
                }
                expired.add(entries.next().key);
            }
        }
        // entries written from now on belong to generations at or after firstLive, so none can land before resumeAt
        sweepFrom = resumeAt;
        expired.forEach(key -> seen.put(key, null)); // put(null), not delete(): no read of the old value
    }

    long generationOf(long requestTimeMs) {
        return Math.floorDiv(requestTimeMs, generationMs);
    }

    /** Store key: the generation with its sign bit flipped (so byte order is numeric order), then the identity. */
    static Bytes key(long generation, byte[] identity) {
        return Bytes.wrap(ByteBuffer.allocate(GENERATION_BYTES + identity.length)
                .putLong(generation ^ Long.MIN_VALUE).put(identity).array());
    }

    /** The smallest store key of a generation: where a range over that generation and later ones starts. */
    static Bytes firstKeyOf(long generation) {
        return key(generation, new byte[0]);
    }

    /**
     * A request's identity: its id, then its keyId and that keyId's length, so no two pairs share bytes (each text
     * in {@link LosslessUtf8}: UTF-8 made ids that differ in a lone surrogate one).
     */
    static byte[] identity(String keyId, String requestId) {
        byte[] key = keyId == null ? new byte[0] : LosslessUtf8.bytes(keyId);
        byte[] id = LosslessUtf8.bytes(requestId);
        if (key.length > KEY_ID_MAX_BYTES) {
            throw new IllegalArgumentException("keyId longer than " + KEY_ID_MAX_BYTES + " bytes");
        }
        return ByteBuffer.allocate(id.length + key.length + KEY_ID_LENGTH_BYTES)
                .put(id).put(key).putShort((short) key.length).array();
    }

    /** Where the store keeps its generation length: the generation no request reaches, so after every entry. */
    public static final Bytes GENERATION_LENGTH_KEY = firstKeyOf(Long.MAX_VALUE);
    /**
     * Where the store keeps request time (see the class comment): generation 0 (1970) with no identity, a key no
     * request has (an identity has at least its keyId's length). A version before this one reads it as an old
     * request's entry: never the newest while the store holds any other (so its resume is as before), generation 0
     * when it is alone (a request time it can compute with: the key's generation {@code Long.MIN_VALUE} or
     * {@code MAX_VALUE} overflowed there and lost the first request to the dead letters), and its sweep deletes it.
     */
    public static final Bytes REQUEST_TIME_KEY = firstKeyOf(0);

    /**
     * Whether a store key is a request's entry: not the kept request time, nor any key of the generation no request
     * reaches (the length's, and the request time as f587cb1 kept it there, which is left alone).
     */
    public static boolean isRequest(Bytes key) {
        return generationOf(key) != Long.MAX_VALUE && !key.equals(REQUEST_TIME_KEY);
    }

    static long generationOf(Bytes key) {
        return ByteBuffer.wrap(key.get()).getLong() ^ Long.MIN_VALUE;
    }

    /** The requestId of a store key (for reading the store, in tests and by hand). */
    public static String requestIdOf(Bytes key) {
        byte[] bytes = key.get();
        int keyIdLength = ByteBuffer.wrap(bytes).getShort(bytes.length - KEY_ID_LENGTH_BYTES) & 0xFFFF;
        int end = bytes.length - KEY_ID_LENGTH_BYTES - keyIdLength;
        return new String(bytes, GENERATION_BYTES, end - GENERATION_BYTES, StandardCharsets.UTF_8);
    }
}
