package io.keymeter.platform.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DataSizeUnit;
import org.springframework.util.unit.DataSize;
import org.springframework.util.unit.DataUnit;
import org.springframework.validation.annotation.Validated;

/**
 * Keymeter's configuration (CONTRACT §2), bound and validated at start-up: a bad value stops start-up with a
 * message naming the property.
 */
@Validated
@ConfigurationProperties("keymeter")
public record KeymeterProperties(
        @NotEmpty List<@Pattern(regexp = "all|credential-store|ingest|metering|billing-report|console",
                message = "must be one of all, credential-store, ingest, metering, billing-report, console") String> roles,
        Path dataDir,
        @Valid EmbeddedKafka embeddedKafka,
        List<@Valid Account> accounts,
        List<@NotBlank String> gatewayTokens,
        @Valid Keys keys,
        @Valid Ingest ingest,
        @Valid Metering metering,
        @Valid Billing billing,
        @Valid Topics topics,
        @Valid Streams streams) {

    /** Durations are used in milliseconds: longer than this overflowed, a stack trace naming no property. */
    public static final Duration LONGEST = Duration.ofDays(36_500);

    public KeymeterProperties {
        roles = roles == null ? List.of("all") : List.copyOf(roles);
        dataDir = dataDir == null ? Path.of("data") : dataDir;
        embeddedKafka = embeddedKafka == null ? new EmbeddedKafka(null) : embeddedKafka;
        accounts = accounts == null ? List.of() : List.copyOf(accounts);
        gatewayTokens = gatewayTokens == null ? List.of() : List.copyOf(gatewayTokens);
        keys = keys == null ? new Keys(null, null, null, null) : keys;
        ingest = ingest == null ? new Ingest(null, null) : ingest;
        metering = metering == null ? new Metering(null, null) : metering;
        billing = billing == null ? new Billing(null, null, null) : billing;
        topics = topics == null ? new Topics(null, null) : topics;
        streams = streams == null ? new Streams(null, null, null, null, null) : streams;
    }

    /**
     * The dedupe forgets by the newest request time it has seen, and metering takes requests stamped up to
     * max-future-skew plus a minute ahead: a window no longer than that let one such request end the window of every
     * requestId seen before it, their resends counted again.
     */
    @AssertTrue(message = "keymeter.metering.dedupe-window must be longer than keymeter.ingest.max-future-skew plus 1 minute")
    public boolean isDedupeWindowLongerThanSkew() {
        return metering.dedupeWindow().compareTo(ingest.maxFutureSkew().plusMinutes(1)) > 0;
    }

    /** Gateway tokens hidden, as {@link Account#toString()} hides account tokens. */
    @Override
    public String toString() {
        return "KeymeterProperties[roles=" + roles + ", dataDir=" + dataDir + ", embeddedKafka=" + embeddedKafka
                + ", accounts=" + accounts + ", gatewayTokens=" + gatewayTokens.size() + " hidden, keys=" + keys
                + ", ingest=" + ingest + ", metering=" + metering + ", billing=" + billing + ", topics=" + topics
                + ", streams=" + streams + "]";
    }

    /** Where the embedded broker keeps its logs. */
    public Path kafkaDir() {
        return dataDir.resolve("kafka");
    }

    /** Where Kafka Streams keeps its state stores. */
    public Path stateDir() {
        return dataDir.resolve("streams");
    }

    public record EmbeddedKafka(@Min(0) @Max(65535) Integer port) {
        public EmbeddedKafka {
            port = port == null ? 9092 : port;
        }
    }

    public record Account(
            @NotBlank @Pattern(regexp = "[A-Za-z0-9_-]{1,64}", message = "must be 1-64 letters, digits, _ or -") String id,
            @NotBlank String token) {
        @Override
        public String toString() {
            return "Account[id=" + id + "]";
        }
    }

    /**
     * @param forgetAfter how long after its last state (invalidated or expired) a dead key is removed from
     *                    {@code keymeter.api-keys}: until then verify and metering answer its reason, afterwards
     *                    {@code unknown-key}
     */
    public record Keys(Duration minLifetime, Duration maxLifetime, Duration expiringNotice, Duration forgetAfter) {
        public Keys {
            minLifetime = minLifetime == null ? Duration.ofDays(1) : minLifetime;
            maxLifetime = maxLifetime == null ? Duration.ofDays(366) : maxLifetime;
            expiringNotice = expiringNotice == null ? Duration.ofDays(7) : expiringNotice;
            forgetAfter = forgetAfter == null ? Duration.ofDays(90) : forgetAfter;
        }

        @AssertTrue(message = "keymeter.keys.expiring-notice must not be negative and at most 36500 days")
        public boolean isExpiringNoticeValid() {
            return !expiringNotice.isNegative() && expiringNotice.compareTo(LONGEST) <= 0;
        }

        @AssertTrue(message = "keymeter.keys.forget-after must be positive and at most 36500 days")
        public boolean isForgetAfterValid() {
            return !forgetAfter.isNegative() && !forgetAfter.isZero() && forgetAfter.compareTo(LONGEST) <= 0;
        }

        @AssertTrue(message = "keymeter.keys.min-lifetime must be positive and not longer than keymeter.keys.max-lifetime,"
                + " and max-lifetime at most 36500 days")
        public boolean isLifetimeRangeValid() {
            return !minLifetime.isNegative() && !minLifetime.isZero() && minLifetime.compareTo(maxLifetime) <= 0
                    && maxLifetime.compareTo(LONGEST) <= 0;
        }
    }

    public record Ingest(Duration maxFutureSkew, Duration maxAge) {
        public Ingest {
            maxFutureSkew = maxFutureSkew == null ? Duration.ofMinutes(5) : maxFutureSkew;
            maxAge = maxAge == null ? Duration.ofDays(35) : maxAge;
        }

        /**
         * The longest max-future-skew: metering stamps what it writes with the request's time, and Kafka refuses a
         * record stamped more than {@code message.timestamp.after.max.ms} (an hour, as Keymeter sets it on its topics:
         * {@code KafkaTopics.timestampBounds}) ahead of the broker's clock, which failed the stream thread for good. Leaves room for the minute of clock difference metering
         * allows on top, and some more.
         */
        public static final Duration LONGEST_FUTURE_SKEW = Duration.ofMinutes(50);

        @AssertTrue(message = "keymeter.ingest.max-future-skew must not be negative and at most PT50M (Kafka refuses"
                + " records stamped more than message.timestamp.after.max.ms, an hour on Keymeter's topics, ahead)")
        public boolean isMaxFutureSkewValid() {
            return !maxFutureSkew.isNegative() && maxFutureSkew.compareTo(LONGEST_FUTURE_SKEW) <= 0;
        }

        /** One check a property: a single one for both named the pair in its message and "windowValid" as its name. */
        @AssertTrue(message = "keymeter.ingest.max-age must be positive and at most 36500 days")
        public boolean isMaxAgeValid() {
            return !maxAge.isNegative() && !maxAge.isZero() && maxAge.compareTo(LONGEST) <= 0;
        }
    }

    /**
     * @param dedupeWindow         a requestId seen again for the same key within this window is counted once
     * @param dedupeFilterCapacity requests per partition and window the dedupe's in-memory filters are sized for
     *                             (about 1.1 MiB a million, two per partition); 0 turns them off. At most 100
     *                             million (about 114 MiB a filter): a typo of 1e9 ran the stream threads out of
     *                             memory, 2e10 passed Guava's bound and sent every request to the dead letters
     */
    public record Metering(Duration dedupeWindow, @PositiveOrZero @Max(value = 100_000_000, message = "must be at most 100000000") Long dedupeFilterCapacity) {
        public static final long DEFAULT_DEDUPE_FILTER_CAPACITY = 1_000_000;

        public Metering {
            dedupeWindow = dedupeWindow == null ? Duration.ofDays(1) : dedupeWindow;
            dedupeFilterCapacity = dedupeFilterCapacity == null ? DEFAULT_DEDUPE_FILTER_CAPACITY : dedupeFilterCapacity;
        }

        @AssertTrue(message = "keymeter.metering.dedupe-window must be positive and at most 36500 days")
        public boolean isDedupeWindowValid() {
            return !dedupeWindow.isNegative() && !dedupeWindow.isZero() && dedupeWindow.compareTo(LONGEST) <= 0;
        }
    }

    /**
     * @param adjustmentInterval the least time between two statements of one account's closed cycle: late usage
     *                           arriving in between is billed together in the next adjustment (one was issued at every
     *                           10 s punctuation while late usage trickled in, 360 statements an hour)
     */
    public record Billing(Duration closeGrace, @Pattern(regexp = "[A-Z]{3}", message = "must be an ISO 4217 code") String currency,
                          Duration adjustmentInterval) {
        public Billing {
            closeGrace = closeGrace == null ? Duration.ofHours(1) : closeGrace;
            currency = currency == null ? "USD" : currency;
            adjustmentInterval = adjustmentInterval == null ? Duration.ofHours(1) : adjustmentInterval;
        }

        @AssertTrue(message = "keymeter.billing.close-grace must not be negative and at most 36500 days")
        public boolean isCloseGraceValid() {
            return !closeGrace.isNegative() && closeGrace.compareTo(LONGEST) <= 0;
        }

        @AssertTrue(message = "keymeter.billing.adjustment-interval must not be negative and at most 31 days")
        public boolean isAdjustmentIntervalValid() {
            return !adjustmentInterval.isNegative() && adjustmentInterval.compareTo(Duration.ofDays(31)) <= 0;
        }
    }

    public record Topics(@Min(1) @Max(1000) Integer partitions, @Min(1) @Max(32767) Integer replicationFactor) {
        public Topics {
            partitions = partitions == null ? 6 : partitions;
            replicationFactor = replicationFactor == null ? 1 : replicationFactor;
        }
    }

    /**
     * Kafka Streams tuning shared by every topology.
     *
     * @param commitInterval exactly-once commit interval: the latency floor of every output
     * @param threads        stream threads per topology
     * @param rocksdbCache   the one block cache shared by every RocksDB store of the process ({@code 64MB}, or
     *                       bytes as a plain number, as before it was a size)
     * @param rocksdbWriteBuffers memtables allowed in total, charged against the cache
     * @param staticMembership whether a restarted instance takes its old place in its groups at once (see
     *                         {@code StaticMembership}) instead of waiting out its dead members' session timeout
     */
    public record Streams(Duration commitInterval, @Min(1) @Max(64) Integer threads,
                          @DataSizeUnit(DataUnit.BYTES) DataSize rocksdbCache,
                          @DataSizeUnit(DataUnit.BYTES) DataSize rocksdbWriteBuffers,
                          Boolean staticMembership) {
        public Streams {
            staticMembership = staticMembership == null || staticMembership;
            commitInterval = commitInterval == null ? Duration.ofMillis(100) : commitInterval;
            threads = threads == null ? 1 : threads;
            rocksdbCache = rocksdbCache == null ? DataSize.ofMegabytes(64) : rocksdbCache;
            // unset: 32MB, or half a smaller cache (a cache lowered alone must still start)
            rocksdbWriteBuffers = rocksdbWriteBuffers != null ? rocksdbWriteBuffers
                    : DataSize.ofBytes(Math.min(DataSize.ofMegabytes(32).toBytes(), rocksdbCache.toBytes() / 2));
        }

        /** Checked here, so that start-up stops naming this property, not Kafka's commit.interval.ms, later. */
        @AssertTrue(message = "keymeter.streams.commit-interval must be positive")
        public boolean isCommitIntervalValid() {
            return !commitInterval.isNegative() && !commitInterval.isZero();
        }

        /** The write buffers are charged against the cache: as large, they pushed every data and index block out. */
        @AssertTrue(message = "keymeter.streams.rocksdb-cache and rocksdb-write-buffers must be at least 1MB, the write buffers smaller"
                + " than the cache they are charged against")
        public boolean isRocksdbMemoryValid() {
            return rocksdbCache.toBytes() >= 1024 * 1024 && rocksdbWriteBuffers.toBytes() >= 1024 * 1024
                    && rocksdbWriteBuffers.toBytes() < rocksdbCache.toBytes();
        }
    }
}
