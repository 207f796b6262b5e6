package io.keymeter.metering;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.metering.enforcement.SeenRequestFilters;
import io.keymeter.platform.config.CheckedAtStart;
import io.keymeter.platform.config.DurationText;
import io.keymeter.platform.config.KeymeterProperties;
import java.time.Duration;

/**
 * What the metering topology needs to know.
 *
 * @param dedupeWindow     a requestId seen again within this much request time (the newest request timestamp seen)
 *                         is counted once
 * @param historyRetention how far back the versioned key-state store answers "as of": max-age plus a margin, so a
 *                         request ingest still accepts always finds its key's state
 * @param joinGrace        how long a request waits for a late key-state update before it is judged
 * @param alertInterval    at most one security alert per key per this interval
 * @param alertGrace       uses of a key this soon after it died raise no alert (still refused and counted)
 * @param dedupeFilterCapacity requests a dedupe generation's in-memory filter holds per task (0: no filters)
 * @param maxFutureSkew    how far ahead of the clock ingest accepts a request; metering refuses one further ahead
 *                         (see {@link io.keymeter.metering.enforcement.RequestBounds})
 * @param requestPartitions partitions of {@code keymeter.requests}, to refuse a request on another partition than its
 *                         keyId's: the topology is built with the cluster's count ({@link #withRequestPartitions})
 */
public record MeteringSettings(Duration dedupeWindow, Duration historyRetention, Duration joinGrace,
                               Duration alertInterval, Duration alertGrace, long dedupeFilterCapacity,
                               Duration maxFutureSkew, int requestPartitions)
        implements CheckedAtStart {

    /** Margin of history kept beyond max-age (clock skew, requests in flight, a late partition). */
    public static final Duration HISTORY_MARGIN = Duration.ofDays(1);
    public static final Duration DEFAULT_JOIN_GRACE = Duration.ofSeconds(2);
    public static final Duration DEFAULT_ALERT_INTERVAL = Duration.ofHours(1);
    /** Requests in flight when a key dies, and gateways' caches catching up, take well under this. */
    public static final Duration DEFAULT_ALERT_GRACE = Duration.ofSeconds(5);

    /**
     * The dedupe's filters (two generations a partition, all of them on one instance while the others are down, each
     * sized by {@link SeenRequestFilters#bytesOf}) must fit in half the heap: the largest capacity allowed
     * started on a 768 MiB heap, and the stream thread ran out of memory on its first requests, three times in 10 s,
     * while health said UP.
     */
    static void requireFiltersFitHeap(long capacity, int partitions, long maxHeap) {
        long bytes = SeenRequestFilters.bytesOf(capacity) * 2 * partitions;
        if (bytes > maxHeap / 2) {
            throw new StartupRefusedException("keymeter.metering.dedupe-filter-capacity " + capacity + " sizes the "
                    + "dedupe's filters at " + bytes / (1024 * 1024) + " MiB (two a partition, " + partitions
                    + " partitions), more than half of this JVM's heap (" + maxHeap / (1024 * 1024) + " MiB).",
                    "Lower it (1000000 by default), or give the JVM more heap (-Xmx).");
        }
    }

    /**
     * These settings for the partition count the cluster has: a topic made before may have another than configured.
     * The dedupe's filters are sized per partition, so they are checked against the heap again.
     */
    public MeteringSettings withRequestPartitions(int partitions) {
        requireFiltersFitHeap(dedupeFilterCapacity, partitions, Runtime.getRuntime().maxMemory());
        return new MeteringSettings(dedupeWindow, historyRetention, joinGrace, alertInterval, alertGrace,
                dedupeFilterCapacity, maxFutureSkew, partitions);
    }

    /**
     * @param requestPartitions partitions of {@code keymeter.requests}: at start-up checks, before Kafka is reached,
     *                          as configured; for the topology, the cluster's ({@link #withRequestPartitions}); 1 for a
     *                          TopologyTestDriver, which has one partition a topic
     */
    public static MeteringSettings of(KeymeterProperties properties, Duration joinGrace, int requestPartitions) {
        if (joinGrace.isNegative() || joinGrace.compareTo(KeymeterProperties.LONGEST) > 0) {
            throw new StartupRefusedException("keymeter.metering.join-grace must not be negative, and at most 36500 days; "
                    + "was " + DurationText.of(joinGrace) + ".", "Set it to PT0S or more (PT2S by default).");
        }
        requireFiltersFitHeap(properties.metering().dedupeFilterCapacity(), requestPartitions,
                Runtime.getRuntime().maxMemory());
        return new MeteringSettings(properties.metering().dedupeWindow(),
                properties.ingest().maxAge().plus(properties.ingest().maxFutureSkew()).plus(HISTORY_MARGIN),
                joinGrace, DEFAULT_ALERT_INTERVAL, DEFAULT_ALERT_GRACE, properties.metering().dedupeFilterCapacity(),
                properties.ingest().maxFutureSkew(), requestPartitions);
    }
}
