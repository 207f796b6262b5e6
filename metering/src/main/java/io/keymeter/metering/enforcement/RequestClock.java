package io.keymeter.metering.enforcement;

import io.keymeter.platform.config.DurationText;
import java.time.Duration;
import java.time.Instant;

/**
 * How far ahead of this instance's clock a request may be stamped. Ingest refuses a line more than
 * {@code keymeter.ingest.max-future-skew} ahead, but a gateway producing to {@code keymeter.requests} directly is
 * checked by nobody, and one request stamped years ahead (a broken clock, microseconds taken for milliseconds) would
 * carry the dedupe's request time and the join's stream time with it: every requestId seen before it forgotten
 * (a resend billed twice), no generation swept again until real time caught up (the store growing without bound),
 * and no request waiting for a late key-state update any more. Such a request is failed instead, so Kafka Streams
 * routes it to the dead-letter topic with this class's reason, and counts it.
 */
public final class RequestClock {

    /** Allowed beyond max-future-skew: the clocks of the ingest and metering hosts may differ a little. */
    public static final Duration MARGIN = Duration.ofMinutes(1);

    private final Duration maxFutureSkew;
    private final long maxAheadMs;

    public RequestClock(Duration maxFutureSkew) {
        this.maxFutureSkew = maxFutureSkew;
        this.maxAheadMs = maxFutureSkew.plus(MARGIN).toMillis();
    }

    /**
     * @param timestamp the request's event time
     * @param now       this instance's clock
     * @throws IllegalArgumentException when the request is stamped more than max-future-skew plus the margin ahead
     */
    public void check(long timestamp, long now) {
        if (timestamp > now + maxAheadMs) {
            throw new IllegalArgumentException("request stamped " + Instant.ofEpochMilli(timestamp)
                    + " is more than " + DurationText.of(maxFutureSkew) + " (keymeter.ingest.max-future-skew) and "
                    + DurationText.of(MARGIN) + " ahead of this instance's clock, " + Instant.ofEpochMilli(now));
        }
    }
}
