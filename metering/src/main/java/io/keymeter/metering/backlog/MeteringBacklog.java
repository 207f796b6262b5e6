package io.keymeter.metering.backlog;

import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.platform.PeriodicTask;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.streams.StreamsFactory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * How many requests ingest has put on {@code keymeter.requests} that metering has not metered yet, measured every
 * {@link #INTERVAL} from Kafka: the gauge {@code keymeter.metering.backlog} (Prometheus
 * {@code keymeter_metering_backlog_requests}), and a warning in the log while it is {@link #WARN_AT} or more. Ingest
 * takes batches as fast as Kafka does, whatever metering keeps up with (a probe: 60,000 lines/s taken for 6.5
 * minutes while metering, on the same two cores, metered 8,000/s, 20 million requests and 15 minutes behind), and
 * usage reports trail by as much: without this, nothing said so.
 */
@Component
public class MeteringBacklog implements DisposableBean {

    static final Duration INTERVAL = Duration.ofSeconds(15);
    static final long WARN_AT = 1_000_000;
    static final Duration WARN_EVERY = Duration.ofMinutes(5);
    private static final Logger LOG = LoggerFactory.getLogger(MeteringBacklog.class);

    /** One reading of the backlog; throws when Kafka does not answer. */
    interface Reading {
        long behind() throws Exception;
    }

    private final Reading reading;
    private final Clock clock;
    private final Admin admin;
    private final PeriodicTask schedule;
    private volatile double latest = Double.NaN;
    private Instant warnedAt;

    @Autowired
    MeteringBacklog(KafkaClients clients, MeterRegistry registry, Clock clock) {
        this(clients.newAdmin(), registry, clock);
    }

    private MeteringBacklog(Admin admin, MeterRegistry registry, Clock clock) {
        this(readingOf(new BacklogReader(admin, Duration.ofSeconds(10))), registry, clock, admin);
    }

    /** Metering's group on the requests topic. */
    private static Reading readingOf(BacklogReader reader) {
        String group = StreamsFactory.applicationId(MeteringConfiguration.APP_NAME);
        return () -> reader.behind(group, Topics.REQUESTS.name());
    }

    /** {@code admin}, if any, is closed with this. Nothing is scheduled without it: a test measures by hand. */
    MeteringBacklog(Reading reading, MeterRegistry registry, Clock clock, Admin admin) {
        this.reading = reading;
        this.clock = clock;
        this.admin = admin;
        Gauge.builder("keymeter.metering.backlog", this, MeteringBacklog::latest).baseUnit("requests")
                .description("Requests on keymeter.requests not metered yet (offsets: transaction markers count too)")
                .register(registry);
        this.schedule = admin == null ? null
                : new PeriodicTask("keymeter-metering-backlog", Duration.ZERO, INTERVAL, this::measureQuietly);
    }

    /** The last reading, NaN before the first or while Kafka does not answer. */
    double latest() {
        return latest;
    }

    /** Whether the log has been told metering is behind and not yet that it caught up. */
    synchronized boolean warning() {
        return warnedAt != null;
    }

    private void measureQuietly() {
        try {
            measure();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down
        } catch (Exception e) {
            latest = Double.NaN;
            LOG.debug("Could not read metering's backlog: {}", e.toString());
        }
    }

    /** Reads the backlog, and warns while it is large (at most every {@link #WARN_EVERY}), says when it is gone. */
    synchronized long measure() throws Exception {
        long behind = reading.behind();
        latest = behind;
        Instant now = clock.instant();
        if (behind >= WARN_AT) {
            if (warnedAt == null || !now.isBefore(warnedAt.plus(WARN_EVERY))) {
                LOG.warn("Metering is {} requests behind keymeter.requests: ingest takes requests faster than "
                        + "metering meters them, and usage reports trail what was accepted by as much", behind);
                warnedAt = now;
            }
        } else if (warnedAt != null && behind < WARN_AT / 10) {
            LOG.info("Metering has caught up: {} requests behind keymeter.requests", behind);
            warnedAt = null;
        }
        return behind;
    }

    @Override
    public void destroy() {
        if (schedule != null) {
            schedule.close();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
