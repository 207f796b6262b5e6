package io.keymeter.platform.kafka;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns at start-up when the cluster runs transactions v2 (KIP-890, {@code transaction.version=2}: what Kafka 4
 * formats a new cluster with, the {@code apache/kafka} image included). On it, Keymeter's exactly-once appends were
 * refused with OutOfOrderSequenceException in its crash tests, totals were lost and doubled, and a probe of a
 * standalone 4.4.0 broker saw metering stuck for good after the broker was killed (its group's offsets
 * UNSTABLE_OFFSET_COMMIT with no transaction open). The embedded broker is formatted with v1; another cluster is the
 * operator's, so this names the command that downgrades it (safe by Kafka's documentation: clients take v1 at their
 * next transaction) rather than changing a cluster-wide feature itself.
 */
final class TransactionVersionCheck {

    static final String FEATURE = "transaction.version";
    private static final Logger log = LoggerFactory.getLogger(TransactionVersionCheck.class);

    private TransactionVersionCheck() {
    }

    /** Logs the warning, if the cluster calls for one, and returns it. */
    static Optional<String> warnOfTransactionsV2(Admin admin, String servers, long timeoutSeconds)
            throws InterruptedException {
        Optional<String> warning;
        try {
            warning = warning(admin.describeFeatures().featureMetadata().get(timeoutSeconds, TimeUnit.SECONDS)
                    .finalizedFeatures(), servers);
        } catch (ExecutionException | TimeoutException e) {
            warning = Optional.of("Could not read the " + FEATURE + " of Kafka at " + servers + " (" + e
                    + "): Keymeter needs transactions v1 (README, \"Running against an existing Kafka cluster\")");
        }
        warning.ifPresent(log::warn);
        return warning;
    }

    /** What to say of the cluster's finalized features, if anything. */
    static Optional<String> warning(Map<String, FinalizedVersionRange> features, String servers) {
        FinalizedVersionRange range = features.get(FEATURE);
        if (range == null || range.maxVersionLevel() < 2) {
            return Optional.empty();
        }
        return Optional.of("Kafka at " + servers + " runs " + FEATURE + "=" + range.maxVersionLevel()
                + " (transactions v2, KIP-890): Keymeter's exactly-once writes were refused on it and billing lost and"
                + " doubled requests in its crash tests, and metering stayed stuck after a broker crash. Run"
                + " transactions v1: kafka-features.sh --bootstrap-server " + servers + " downgrade --feature "
                + FEATURE + "=1 (README, \"Running against an existing Kafka cluster\")");
    }
}
