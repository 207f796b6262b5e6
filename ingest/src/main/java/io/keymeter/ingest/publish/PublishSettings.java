package io.keymeter.ingest.publish;

import java.time.Duration;

/**
 * Producer tuning of the ingest publisher.
 *
 * @param producers   transactional producers in the pool = batches published at the same time
 * @param timeout     bound on taking one batch: waiting for a producer, buffer space, and the commit
 * @param lingerMs    producer {@code linger.ms}
 * @param batchBytes  producer {@code batch.size}
 * @param compression producer {@code compression.type}
 */
public record PublishSettings(int producers, Duration timeout, int lingerMs, int batchBytes, String compression) {

    public static PublishSettings defaults() {
        return new PublishSettings(4, Duration.ofSeconds(10), 5, 256 * 1024, "lz4");
    }
}
