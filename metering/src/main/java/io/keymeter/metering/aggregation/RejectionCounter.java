package io.keymeter.metering.aggregation;

import io.keymeter.events.Rejection;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Counts rejections per {@code credentialId/YYYY-MM-DD/reason} (the record key), and forgets a day once it is older
 * than {@code retention} by the instance's clock: before this the counts were a DSL {@code count()}, one entry per
 * credential, day and reason for good, in RocksDB and in a compacted changelog that nothing ever shrank.
 * <p>
 * The retention is the key-state history's: a day is kept while a request of that day can still be judged by its
 * key's history. A rejection of a day already forgotten (a backlog older than that) starts the day's count again,
 * and the next sweep forgets it again. The store is the one the DSL count made (timestamped, same name and
 * changelog), so counts kept before carry on.
 */
public final class RejectionCounter implements Processor<String, Rejection, Void, Void> {

    /**
     * How often the sweep looks (wall clock): short, because the schedule starts again with every task, and a task
     * restarted or moved more often than this would never sweep. It scans the store only when the cut-off day has
     * moved (once a UTC day, and once after every start).
     */
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(5);
    /** Deletes per sweep at most, so that one sweep of a store kept for good before this never stalls its task. */
    static final int MAX_DELETES = 10_000;

    private final String storeName;
    private final Duration retention;
    private TimestampedKeyValueStore<String, Long> counts;
    /** The cut-off day of the last sweep of this task (none yet after a start: the first sweep scans). */
    private LocalDate sweptBefore;

    public RejectionCounter(String storeName, Duration retention) {
        this.storeName = storeName;
        this.retention = retention;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        counts = context.getStateStore(storeName);
        sweptBefore = null;
        context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> sweep(Instant.ofEpochMilli(now)));
    }

    @Override
    public void process(Record<String, Rejection> record) {
        ValueAndTimestamp<Long> previous = counts.get(record.key());
        long count = previous == null ? 1 : previous.value() + 1;
        long timestamp = previous == null ? record.timestamp() : Math.max(previous.timestamp(), record.timestamp());
        counts.put(record.key(), ValueAndTimestamp.make(count, timestamp));
    }

    /**
     * Deletes the counts of days before {@code now - retention}, collected first (no writes while iterating), at most
     * {@link #MAX_DELETES}: a sweep that reaches that many looks again at the next punctuation.
     */
    void sweep(Instant now) {
        LocalDate cutoff = LocalDate.ofInstant(now.minus(retention), ZoneOffset.UTC);
        if (sweptBefore != null && !cutoff.isAfter(sweptBefore)) {
            return;
        }
        List<String> old = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<Long>> all = counts.all()) {
            while (all.hasNext() && old.size() < MAX_DELETES) {
                KeyValue<String, ValueAndTimestamp<Long>> entry = all.next();
                LocalDate day = dayOf(entry.key);
                if (day != null && day.isBefore(cutoff)) {
                    old.add(entry.key);
                }
            }
        }
        old.forEach(counts::delete);
        if (old.size() < MAX_DELETES) {
            sweptBefore = cutoff;
        }
    }

    /** The day of a {@code credentialId/YYYY-MM-DD/reason} key, read from the end; null for any other key. */
    static LocalDate dayOf(String key) {
        int reason = key.lastIndexOf('/');
        int day = reason <= 0 ? -1 : key.lastIndexOf('/', reason - 1);
        if (day < 0) {
            return null;
        }
        try {
            return LocalDate.parse(key.substring(day + 1, reason));
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
