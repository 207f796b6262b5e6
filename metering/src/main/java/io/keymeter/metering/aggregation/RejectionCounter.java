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
 * forgotten at the next scan. The store is the one the DSL count made (timestamped, same name and changelog), so
 * counts kept before carry on.
 */
public final class RejectionCounter implements Processor<String, Rejection, Void, Void> {

    /**
     * How often the sweep looks (wall clock): short, because the schedule starts again with every task, and a task
     * restarted or moved more often than this would never sweep. A scan starts only when the cut-off day has moved
     * (once a UTC day, and once after every start).
     */
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(5);
    /** Entries a sweep reads at most; a scan longer than that goes on from where it stopped at the next sweep. */
    static final int MAX_READS = 100_000;

    private final String storeName;
    private final Duration retention;
    private final int maxReads;
    private TimestampedKeyValueStore<String, Long> counts;
    /** The cut-off day of the last whole scan of this task (none yet after a start: the first sweep scans). */
    private LocalDate sweptBefore;
    /** The cut-off day of a scan under way, and the key it goes on from (null: none under way). */
    private LocalDate scanning;
    private String resumeFrom;

    public RejectionCounter(String storeName, Duration retention) {
        this(storeName, retention, MAX_READS);
    }

    RejectionCounter(String storeName, Duration retention, int maxReads) {
        this.storeName = storeName;
        this.retention = retention;
        this.maxReads = maxReads;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        counts = context.getStateStore(storeName);
        sweptBefore = null;
        scanning = null;
        resumeFrom = null;
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
     * Reads up to {@code maxReads} entries of the scan under way (one starts when the cut-off day, {@code now -
     * retention}, has moved past the last whole scan's) and deletes those of days before the cut-off, collected
     * first: no writes while iterating. A scan whose cut-off moves on before it ends starts again from the first key.
     */
    void sweep(Instant now) {
        LocalDate cutoff = LocalDate.ofInstant(now.minus(retention), ZoneOffset.UTC);
        if (scanning == null || cutoff.isAfter(scanning)) {
            if (scanning == null && sweptBefore != null && !cutoff.isAfter(sweptBefore)) {
                return;
            }
            scanning = cutoff;
            resumeFrom = null;
        }
        List<String> old = new ArrayList<>();
        String last = null;
        boolean done;
        try (KeyValueIterator<String, ValueAndTimestamp<Long>> entries = counts.range(resumeFrom, null)) {
            int read = 0;
            while (entries.hasNext() && read++ < maxReads) {
                KeyValue<String, ValueAndTimestamp<Long>> entry = entries.next();
                last = entry.key;
                LocalDate day = dayOf(entry.key);
                if (day != null && day.isBefore(cutoff)) {
                    old.add(entry.key);
                }
            }
            done = !entries.hasNext();
        }
        old.forEach(counts::delete);
        if (done) {
            sweptBefore = scanning;
            scanning = null;
            resumeFrom = null;
        } else {
            resumeFrom = last; // read again next time, harmlessly: deleted now, or kept
        }
    }

    /** A rejection's key in the counts: {@code credentialId/YYYY-MM-DD/reason}, credential {@code -} when unknown. */
    public static String keyOf(Rejection rejection) {
        String credential = rejection.credentialId() == null ? "-" : rejection.credentialId();
        return credential + "/" + LocalDate.ofInstant(rejection.timestamp(), ZoneOffset.UTC) + "/" + rejection.reason().code();
    }

    /** The day of a {@link #keyOf} key, read from the end (a credential id may hold a slash); null for any other key. */
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
