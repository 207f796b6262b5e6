package io.keymeter.metering.enforcement;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.platform.config.DurationText;
import io.keymeter.platform.kafka.KafkaTopics;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What metering refuses of a request on {@code keymeter.requests} because following it would corrupt what it keeps.
 * Ingest refuses such lines; a gateway producing to the topic directly is checked by nobody else.
 * <ul>
 * <li>A record key other than its keyId, or on another partition than Kafka's default partitioner gives its keyId
 * (murmur2 of its UTF-8 bytes, as the credential store writes the key's states): judged by none of its key's states.
 * The Java client partitions so by default; librdkafka's clients do not (their {@code partitioner} must be
 * {@code murmur2_random}), nor Sarama's. Judged here, such requests would be refused {@code unknown-key} while
 * {@code /v1/verify} found the key valid: served and never billed.</li>
 * <li>A requestId holding an API key (kept in the dedupe store, or masked and colliding), as ingest refuses it.</li>
 * <li>A keyId not shaped as one (16 base62 characters), or a secretHash not shaped as one (64 lowercase hex
 * characters): no key has such an id or hash, so each would be refused {@code unknown-key} for a fault that is the
 * producer's (a whole API key given as keyId, the plaintext secret or an uppercase hash as secretHash), and the first
 * would be copied on into rejections.</li>
 * <li>Stamped more than {@code keymeter.ingest.max-future-skew} (plus {@link #CLOCK_MARGIN} for clock differences
 * between hosts) ahead of this instance's clock. One request stamped years ahead (a broken clock, microseconds taken
 * for milliseconds) would carry the dedupe's request time with it: every requestId seen before it forgotten (a
 * resend billed twice), and no generation swept until real time caught up (the store growing without bound).</li>
 * <li>Stamped before 1970 or beyond what a millisecond count holds (a zero time, seconds read as milliseconds the
 * other way round): no event time can be given to it.</li>
 * <li>Units outside ingest's 1 to {@link RequestLog#MAX_UNITS}: fewer would take usage off a bill, more could
 * overflow a day's total.</li>
 * <li>A requestId empty or longer than {@link RequestLog#MAX_REQUEST_ID_CHARS} (an empty one would make every such
 * request a resend of the first; a long one sits in the dedupe store for the whole window), or an operation, itemId
 * or referrer longer than {@link RequestLog#MAX_TEXT_CHARS}. A request without a requestId is not deduplicated,
 * and passes.</li>
 * </ul>
 * Such a request is failed, so Kafka Streams routes it to the dead-letter topic with this class's reason, and counts
 * it. A line ingest accepted always passes: metering reads it later than ingest did.
 */
public final class RequestBounds {

    /** Allowed beyond max-future-skew: the clocks of the ingest and metering hosts may differ a little. */
    public static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);
    /** The latest instant a millisecond count since 1970 holds. */
    private static final Instant LATEST = Instant.ofEpochMilli(Long.MAX_VALUE);

    private final Duration maxFutureSkew;
    private final long maxAheadMs;
    private final int partitions;

    /**
     * @param maxFutureSkew ingest's {@code keymeter.ingest.max-future-skew}
     * @param partitions    partitions of {@code keymeter.requests} (and of {@code keymeter.api-keys}, checked equal at
     *                      start-up)
     */
    public RequestBounds(Duration maxFutureSkew, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, was " + partitions);
        }
        this.maxFutureSkew = maxFutureSkew;
        this.maxAheadMs = maxFutureSkew.plus(CLOCK_MARGIN).toMillis();
        this.partitions = partitions;
    }

    /**
     * @param recordKey the request record's key
     * @param partition the partition of {@code keymeter.requests} it was read from
     * @param request   the request
     * @param timestamp its event time
     * @param now       this instance's clock
     * @throws IllegalArgumentException when the request is out of bounds, saying why
     */
    public void check(String recordKey, int partition, RequestLog request, long timestamp, long now) {
        if (!Objects.equals(request.keyId(), recordKey)) {
            // on another partition than its key's states, it would be judged by none of them (or, waiting for its
            // grace, by its keyId): a gateway producing directly keyed it wrongly. A keyed request without a keyId
            // too: judged on arrival by its record key, but after waiting out the grace by its (missing) keyId, so
            // its verdict depended on when it came. Not the key in the message: it may be anything, a plaintext
            // API key too
            throw new IllegalArgumentException("request record not keyed by its keyId (" + Topics.REQUESTS.name()
                    + " is partitioned by keyId, as the key states are)");
        }
        if (request.keyId() != null) {
            keyed(request.keyId(), partition);
        }
        if (request.secretHash() != null && !ApiKeys.isSecretHash(request.secretHash())) {
            // not quoted: it may be the plaintext secret
            throw new IllegalArgumentException("request secretHash of " + request.secretHash().length()
                    + " characters is not 64 lowercase hex characters (the SHA-256 of the key's secret, as"
                    + " ApiKeys.parse gives it)");
        }
        if (request.timestamp() != null && !representable(request.timestamp())) {
            throw new IllegalArgumentException("request stamped " + request.timestamp()
                    + ", before 1970 or beyond what a millisecond count holds");
        }
        check(timestamp, request.units(), now);
        if (request.requestId() != null && !RequestLog.requestIdInBounds(request.requestId())) {
            throw new IllegalArgumentException("request requestId of " + characters(request.requestId())
                    + " characters outside 1 to " + RequestLog.MAX_REQUEST_ID_CHARS);
        }
        if (ApiKeys.holdsKey(request.requestId())) {
            // as ingest refuses it: kept, the key would sit in the dedupe store and its changelog; masked, two
            // requests of one key would share an id, the second dropped as a resend
            throw new IllegalArgumentException("request requestId " + RequestLog.REQUEST_ID_HOLDS_A_KEY);
        }
        text("service", request.service()); // ingest takes catalog names only; a direct producer could send 1 MiB
        text("operation", request.operation());
        text("itemId", request.itemId());
        text("referrer", request.referrer());
    }

    private void keyed(String keyId, int partition) {
        if (!ApiKeys.isKeyId(keyId)) {
            // not quoted: a whole API key given as keyId is the likeliest case
            throw new IllegalArgumentException("request keyId of " + keyId.length() + " characters is not 16 base62"
                    + " characters (the keyId part of the API key, as ApiKeys.parse gives it)");
        }
        int expected = KafkaTopics.partitionOf(keyId, partitions);
        if (expected != partition) {
            throw new IllegalArgumentException("request on partition " + partition + " of " + Topics.REQUESTS.name()
                    + ", where its keyId's states are on partition " + expected + " of " + partitions + ": produce it"
                    + " with Kafka's default partitioner (murmur2 of the key; librdkafka: partitioner=murmur2_random)");
        }
    }

    /** Whether the instant is an event time Kafka takes: milliseconds since 1970, not negative, not overflowing. */
    static boolean representable(Instant instant) {
        return !instant.isBefore(Instant.EPOCH) && !instant.isAfter(LATEST);
    }

    private static void text(String field, String value) {
        if (!RequestLog.textInBounds(value)) {
            throw new IllegalArgumentException("request " + field + " of " + characters(value)
                    + " characters longer than " + RequestLog.MAX_TEXT_CHARS);
        }
    }

    /** Characters as the bounds count them: code points. */
    private static int characters(String text) {
        return text.codePointCount(0, text.length());
    }

    void check(long timestamp, long units, long now) {
        if (timestamp > now + maxAheadMs) {
            throw new IllegalArgumentException("request stamped " + Instant.ofEpochMilli(timestamp)
                    + " is more than " + DurationText.of(maxFutureSkew) + " (keymeter.ingest.max-future-skew) and "
                    + DurationText.of(CLOCK_MARGIN) + " ahead of this instance's clock, " + Instant.ofEpochMilli(now));
        }
        if (!RequestLog.unitsInBounds(units)) {
            throw new IllegalArgumentException("request units " + units + " outside 1 to " + RequestLog.MAX_UNITS);
        }
    }
}
