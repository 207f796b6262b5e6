package io.keymeter.ingest.http;

import io.keymeter.platform.config.CheckedAtStart;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaClients;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;

/**
 * Refuses batches while the disk of the data directory is nearly full, before the embedded broker fills it: a full
 * disk stops the broker, which halts the whole process, verify and credential changes with it, until space is freed
 * by hand. Refused with 503 and {@code Retry-After}, a gateway keeps its batch and sends it again. By default only
 * with the embedded broker (whose logs are on that disk; on a cluster they are not); set explicitly, it applies to
 * any deployment, {@code 0} never.
 */
@Component
final class DiskReserve implements CheckedAtStart {

    static final String PROPERTY = "keymeter.ingest.min-free-disk";
    static final DataSize DEFAULT = DataSize.ofGigabytes(1);
    static final Duration RETRY_AFTER = Duration.ofSeconds(30);
    static final Duration WARN_EVERY = Duration.ofMinutes(5);
    private static final Logger LOG = LoggerFactory.getLogger(DiskReserve.class);

    private final long minimum;
    private final boolean explicit;
    private final BooleanSupplier embedded;
    private final LongSupplier freeBytes;
    private final Clock clock;
    private Instant warnedAt;
    /** Whether a WARN was logged with no INFO since. */
    private boolean announced;
    private volatile Boolean applies;

    /**
     * @param minimum   bytes that must stay free
     * @param explicit  whether it was set: then it applies whatever the cluster, else only with the embedded broker
     * @param embedded  whether the broker is embedded, asked at the first batch (Kafka is not made yet at start-up)
     * @param freeBytes the disk's usable bytes now
     */
    DiskReserve(long minimum, boolean explicit, BooleanSupplier embedded, LongSupplier freeBytes, Clock clock) {
        this.minimum = minimum;
        this.explicit = explicit;
        this.embedded = embedded;
        this.freeBytes = freeBytes;
        this.clock = clock;
    }

    @Autowired
    DiskReserve(@Value("${" + PROPERTY + ":#{null}}") String minimum, KeymeterProperties properties,
                ObjectProvider<KafkaClients> clients, Clock clock) {
        this(parse(minimum).toBytes(), minimum != null, () -> clients.getObject().embedded(),
                usableSpaceOf(properties.dataDir()), clock);
    }

    /** The setting as written: a size ({@code 1GB}, {@code 512MB}), {@code 0} for never; unset, the default. */
    static DataSize parse(String written) {
        if (written == null) {
            return DEFAULT;
        }
        DataSize size;
        try {
            size = DataSize.parse(written.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " must be a size such as 1GB or 512MB, or 0 for never; was '"
                    + written + "'" + (written.isBlank() ? " (leave it out for its default, 1GB)" : ""));
        }
        if (size.isNegative()) {
            throw new IllegalArgumentException(PROPERTY + " must not be negative; was " + written.strip());
        }
        return size;
    }

    private static LongSupplier usableSpaceOf(Path dir) {
        return () -> dir.toFile().getUsableSpace(); // one statvfs: cheap enough for every batch
    }

    private boolean applies() {
        Boolean known = applies;
        if (known == null) {
            known = minimum > 0 && (explicit || embedded.getAsBoolean());
            applies = known;
        }
        return known;
    }

    /** Why the next batch must be refused, if it must: the disk has less than the minimum free. */
    Optional<String> refusal() {
        if (!applies()) {
            return Optional.empty();
        }
        long free = freeBytes.getAsLong();
        if (free >= minimum) {
            tookAgain(free);
            return Optional.empty();
        }
        refused(free);
        // the figures are for the log: the disk's size is no gateway's business
        return Optional.of("The disk of Keymeter's data directory has less free space than "
                + PROPERTY + ": batches are refused until space is freed, so that the disk does not fill up (a full "
                + "disk stops Kafka and the state stores); nothing of this one was kept. Send it again later.");
    }

    /**
     * Why batches are refused now, for health: the check {@link #refusal} makes, with the figures, and without its
     * log.
     */
    Optional<String> shortBecause() {
        if (!applies()) {
            return Optional.empty();
        }
        long free = freeBytes.getAsLong();
        return free >= minimum ? Optional.empty() : Optional.of("batches are refused: the data directory's disk has "
                + megabytes(free) + " free, less than " + PROPERTY + " (" + megabytes(minimum) + ")");
    }

    /** Says at start, once ready, when batches will be refused from the first: nothing else would until one is. */
    @EventListener(ApplicationReadyEvent.class)
    void checkAtStart() {
        refusal();
    }

    /**
     * A WARN at most every {@link #WARN_EVERY}, the clock kept across recoveries (free space near the minimum moves
     * up and down with every compaction), and an INFO for the first batch taken after each WARN.
     */
    private synchronized void refused(long free) {
        Instant now = clock.instant();
        if (warnedAt == null || !now.isBefore(warnedAt.plus(WARN_EVERY))) {
            LOG.warn("The disk of Keymeter's data directory has {} free, less than {} ({}): batches are refused until "
                    + "space is freed", megabytes(free), PROPERTY, megabytes(minimum));
            warnedAt = now;
            announced = true;
        }
    }

    private synchronized void tookAgain(long free) {
        if (announced) {
            LOG.info("Batches are taken again: the data directory's disk has {} free", megabytes(free));
            announced = false;
        }
    }

    private static String megabytes(long bytes) {
        return bytes / (1024 * 1024) + " MiB";
    }
}
