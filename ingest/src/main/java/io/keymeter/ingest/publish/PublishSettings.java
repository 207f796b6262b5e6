package io.keymeter.ingest.publish;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.config.CheckedAtStart;
import java.time.Duration;
import java.util.List;

/**
 * Producer tuning of the ingest publisher.
 *
 * @param producers   transactional producers in the pool = batches published at the same time
 * @param timeout     bound on taking one batch: waiting for a producer, buffer space, and the commit
 * @param lingerMs    producer {@code linger.ms}
 * @param batchBytes  producer {@code batch.size}
 * @param compression producer {@code compression.type}
 */
public record PublishSettings(int producers, Duration timeout, int lingerMs, int batchBytes, String compression)
        implements CheckedAtStart {

    /** Kafka's producer {@code compression.type} values. */
    private static final List<String> COMPRESSIONS = List.of("none", "gzip", "snappy", "lz4", "zstd");

    static final Duration LONGEST_TIMEOUT = Duration.ofMinutes(5);

    /** Checked here so that start-up names the property, not a producer setting or a queue's capacity. */
    public PublishSettings {
        require(producers >= 1, "producers must be at least 1");
        require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "timeout must be positive");
        // the producers' transaction timeout is 3x it, which a broker refuses above its transaction.max.timeout.ms (15
        // minutes by default): every batch was a 503 (and the ms casts to int overflowed for longer ones)
        require(timeout.compareTo(LONGEST_TIMEOUT) <= 0, "timeout must be at most PT5M");
        require(lingerMs >= 0, "linger-ms must not be negative");
        require(batchBytes >= 1, "batch-bytes must be at least 1");
        require(compression != null && COMPRESSIONS.contains(compression),
                "compression must be one of " + String.join(", ", COMPRESSIONS) + "; was " + compression);
    }

    private static void require(boolean valid, String message) {
        if (!valid) {
            throw new StartupRefusedException("keymeter.ingest.publish." + message + ".",
                    "Change it, or leave it out for its default (see the ingest README).");
        }
    }
}
