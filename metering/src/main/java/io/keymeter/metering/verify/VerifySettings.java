package io.keymeter.metering.verify;

import io.keymeter.platform.config.CheckedAtStart;
import io.keymeter.platform.config.KeymeterProperties;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * How stale verify's key states may be ({@value KeyStateCache#MAX_STALENESS}), checked before the embedded broker
 * starts: the cache that reads it needs Kafka, so a refused value was said only once the broker was up.
 *
 * @param maxStaleness              how long ago the cache may last have been at the topic's end for verify to answer
 *                                  from it
 * @param credentialsCommitInterval the credential store's commit interval ({@code keymeter.credentials.commit-interval}):
 *                                  a key state it writes may wait that long for its commit, unread by verify
 */
@Component
public record VerifySettings(Duration maxStaleness, Duration credentialsCommitInterval) implements CheckedAtStart {

    public VerifySettings(@Value("${" + KeyStateCache.MAX_STALENESS + ":PT10S}") Duration maxStaleness,
                          @Value("${keymeter.credentials.commit-interval:PT0S}") Duration credentialsCommitInterval) {
        if (maxStaleness.compareTo(KeyStateCache.END_CHECK_INTERVAL.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException(KeyStateCache.MAX_STALENESS + " must be at least "
                    + KeyStateCache.END_CHECK_INTERVAL.multipliedBy(2) + " (the end offsets are checked every "
                    + KeyStateCache.END_CHECK_INTERVAL.toMillis() + " ms), not " + maxStaleness);
        }
        if (maxStaleness.compareTo(KeymeterProperties.LONGEST) > 0) { // its nanoseconds overflowed: never current
            throw new IllegalArgumentException(KeyStateCache.MAX_STALENESS + " must be at most 36500 days, not "
                    + maxStaleness);
        }
        this.maxStaleness = maxStaleness;
        // refused where the credential store runs; here only how long its transactions may stay open
        this.credentialsCommitInterval = credentialsCommitInterval.isNegative() ? Duration.ZERO
                : credentialsCommitInterval;
    }
}
