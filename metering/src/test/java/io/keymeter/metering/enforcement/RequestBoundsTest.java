package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RequestLog;
import io.keymeter.platform.kafka.KafkaTopics;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestBoundsTest {

    private static final long NOW = Instant.parse("2026-12-02T01:00:00Z").toEpochMilli();
    private static final String K = "abcdefghijklmnop";
    private static final String H = ApiKeys.hashSecret("secret");
    private final RequestBounds bounds = new RequestBounds(Duration.ofMinutes(5), 1);

    @Test
    void aRequestUpToMaxFutureSkewAndTheMarginAheadPasses() {
        long edge = NOW + Duration.ofMinutes(6).toMillis();
        assertThatCode(() -> bounds.check(edge, 1, NOW)).doesNotThrowAnyException();
        assertThatCode(() -> bounds.check(NOW, 1, NOW)).doesNotThrowAnyException();
    }

    @Test
    void aRequestAMillisecondBeyondIsRefusedWithItsTimeTheSettingAndTheClock() {
        long beyond = NOW + Duration.ofMinutes(6).toMillis() + 1;
        assertThatThrownBy(() -> bounds.check(beyond, 1, NOW)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("request stamped 2026-12-02T01:06:00.001Z is more than PT5M"
                        + " (keymeter.ingest.max-future-skew) and PT1M ahead of this instance's clock,"
                        + " 2026-12-02T01:00:00Z");
    }

    @Test
    void oldRequestsPassHoweverOld() {
        assertThatCode(() -> bounds.check(NOW - Duration.ofDays(400).toMillis(), 1, NOW)).doesNotThrowAnyException();
        assertThatCode(() -> bounds.check(0, 1, NOW)).doesNotThrowAnyException();
    }

    @Test
    void aSkewOfWholeDaysIsNamedAsConfigured() {
        RequestBounds days = new RequestBounds(Duration.ofDays(2), 1);
        assertThatThrownBy(() -> days.check(NOW + Duration.ofDays(3).toMillis(), 1, NOW))
                .hasMessageContaining("more than P2D (keymeter.ingest.max-future-skew) and PT1M ahead");
    }

    @Test
    void unitsFromOneToIngestsMaximumPassAndNoOthers() {
        assertThatCode(() -> bounds.check(NOW, RequestLog.MAX_UNITS, NOW)).doesNotThrowAnyException();
        assertThatThrownBy(() -> bounds.check(NOW, 0, NOW)).hasMessage("request units 0 outside 1 to 2147483647");
        assertThatThrownBy(() -> bounds.check(NOW, -5, NOW)).hasMessage("request units -5 outside 1 to 2147483647");
        assertThatThrownBy(() -> bounds.check(NOW, RequestLog.MAX_UNITS + 1, NOW))
                .hasMessage("request units 2147483648 outside 1 to 2147483647");
    }

    @Test
    void textsAsLongAsIngestTakesPassAndNoLonger() {
        assertThatCode(() -> bounds.check(K, 0, request("r".repeat(128), "f".repeat(2048)), NOW, NOW))
                .doesNotThrowAnyException();
        assertThatCode(() -> bounds.check(K, 0, request(null, null), NOW, NOW)).doesNotThrowAnyException();
        assertThatThrownBy(() -> bounds.check(K, 0, request("", null), NOW, NOW))
                .hasMessage("request requestId of 0 characters outside 1 to 128");
        assertThatThrownBy(() -> bounds.check(K, 0, request("r".repeat(129), null), NOW, NOW))
                .hasMessage("request requestId of 129 characters outside 1 to 128");
        String emoji = "\uD83D\uDE80"; // one character, as ingest counts it
        assertThatCode(() -> bounds.check(K, 0, request(emoji.repeat(128), null), NOW, NOW)).doesNotThrowAnyException();
        assertThatThrownBy(() -> bounds.check(K, 0, request(emoji.repeat(129), null), NOW, NOW))
                .hasMessage("request requestId of 129 characters outside 1 to 128");
        assertThatThrownBy(() -> bounds.check(K, 0, request("r", "f".repeat(2049)), NOW, NOW))
                .hasMessage("request referrer of 2049 characters longer than 2048");
        RequestLog longOperation = new RequestLog("r", K, H, "basemaps", "o".repeat(2049), 1, null, null, null);
        assertThatThrownBy(() -> bounds.check(K, 0, longOperation, NOW, NOW))
                .hasMessage("request operation of 2049 characters longer than 2048");
        RequestLog longService = new RequestLog("r", K, H, "s".repeat(1 << 20), "op", 1, null, null, null);
        assertThatThrownBy(() -> bounds.check(K, 0, longService, NOW, NOW))
                .hasMessage("request service of 1048576 characters longer than 2048");
        RequestLog longItem = new RequestLog("r", K, H, "basemaps", "op", 1, "i".repeat(4000), null, null);
        assertThatThrownBy(() -> bounds.check(K, 0, longItem, NOW, NOW))
                .hasMessage("request itemId of 4000 characters longer than 2048");
    }

    /** Documented: ingest requires an operation of a line; produced directly, one without is billed as sent. */
    @Test
    void aRequestWithoutAnOperationPasses() {
        for (String operation : new String[] {null, ""}) {
            RequestLog request = new RequestLog("r", K, H, "basemaps", operation, 1, null, null, null);
            assertThatCode(() -> bounds.check(K, 0, request, NOW, NOW)).as(operation).doesNotThrowAnyException();
        }
    }

    @Test
    void theWholeRequestIsCheckedForTimeAndUnitsToo() {
        RequestLog negative = new RequestLog("r", K, H, "basemaps", "op", -1, null, null, null);
        assertThatThrownBy(() -> bounds.check(K, 0, negative, NOW, NOW))
                .hasMessage("request units -1 outside 1 to 2147483647");
        assertThatThrownBy(() -> bounds.check(K, 0, request("r", null), NOW + Duration.ofDays(1).toMillis(), NOW))
                .hasMessageStartingWith("request stamped 2026-12-03T01:00:00Z is more than PT5M");
    }

    /** The record key must be the request's keyId (metering's partitions are by keyId, as the key states are). */
    @Test
    void aRecordKeyedOtherThanByItsKeyIdIsRefusedWithoutQuotingTheKey() {
        assertThatThrownBy(() -> bounds.check("km_plaintext", 0, request("r", null), NOW, NOW))
                .hasMessageStartingWith("request record not keyed by its keyId").hasMessageNotContaining("km_plaintext");
        assertThatCode(() -> bounds.check(K, 0, request("r", null), NOW, NOW)).doesNotThrowAnyException();
        // keyed, but without a keyId: judged by its record key on arrival and by no key after waiting out the grace
        RequestLog noKeyId = new RequestLog("r", null, H, "basemaps", "op", 1, null, null, null);
        assertThatThrownBy(() -> bounds.check(K, 0, noKeyId, NOW, NOW))
                .hasMessageStartingWith("request record not keyed by its keyId");
        assertThatCode(() -> bounds.check(null, 0, noKeyId, NOW, NOW)).as("neither: unknown-key, judged the same always")
                .doesNotThrowAnyException();
    }

    /**
     * A request on another partition than its keyId's states would be judged by none of them: served, verified valid,
     * and refused {@code unknown-key}, never billed (librdkafka's default partitioner is not Kafka's).
     */
    @Test
    void aRequestOnAnotherPartitionThanItsKeyIdsIsRefusedNamingBoth() {
        RequestBounds six = new RequestBounds(Duration.ofMinutes(5), 6);
        int home = KafkaTopics.partitionOf(K, 6);
        int other = (home + 1) % 6;
        assertThatCode(() -> six.check(K, home, request("r", null), NOW, NOW)).doesNotThrowAnyException();
        assertThatThrownBy(() -> six.check(K, other, request("r", null), NOW, NOW))
                .hasMessage("request on partition " + other + " of keymeter.requests, where its keyId's states are on"
                        + " partition " + home + " of 6: produce it with Kafka's default partitioner (murmur2 of the"
                        + " key; librdkafka: partitioner=murmur2_random)");
        RequestLog noKeyId = new RequestLog("r", null, H, "basemaps", "op", 1, null, null, null);
        assertThatCode(() -> six.check(null, other, noKeyId, NOW, NOW)).as("no key: no partition of its own")
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> new RequestBounds(Duration.ofMinutes(5), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A whole API key given as keyId, its plaintext secret as secretHash: refused, neither quoted. */
    @Test
    void aKeyIdOrSecretHashNotShapedAsOneIsRefusedWithoutQuotingIt() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        RequestLog wholeKey = new RequestLog("r", key.apiKey(), H, "basemaps", "op", 1, null, null, null);
        assertThatThrownBy(() -> bounds.check(key.apiKey(), 0, wholeKey, NOW, NOW))
                .hasMessage("request keyId of " + ApiKeys.LENGTH + " characters is not 16 base62 characters (the keyId part of the API"
                        + " key, as ApiKeys.parse gives it)");
        String secret = key.apiKey().substring(20, 52);
        for (String hash : new String[] {secret, H.toUpperCase(), H.substring(1), ""}) {
            RequestLog request = new RequestLog("r", K, hash, "basemaps", "op", 1, null, null, null);
            assertThatThrownBy(() -> bounds.check(K, 0, request, NOW, NOW)).as(hash)
                    .hasMessageStartingWith("request secretHash of " + hash.length() + " characters is not 64 lowercase"
                            + " hex characters").hasMessageNotContaining(secret);
        }
        RequestLog noHash = new RequestLog("r", K, null, "basemaps", "op", 1, null, null, null);
        assertThatCode(() -> bounds.check(K, 0, noHash, NOW, NOW)).as("no hash: unknown-key, as ever")
                .doesNotThrowAnyException();
    }

    @Test
    void aRequestIdHoldingAKeyIsRefusedWithoutQuotingIt() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        assertThatThrownBy(() -> bounds.check(K, 0, request("gw-" + key.apiKey(), null), NOW, NOW))
                .hasMessage("request requestId holds an API key (km_…): give each request an id of the gateway's own");
        assertThatCode(() -> bounds.check(K, 0, request("km_basemapsEurope24_1", null), NOW, NOW))
                .as("not a key").doesNotThrowAnyException();
    }

    private static RequestLog request(String requestId, String referrer) {
        return new RequestLog(requestId, K, H, "basemaps", "op", 1, null, referrer, null);
    }

    /** Kafka takes no event time before 1970 nor past a millisecond count: such a request is a dead letter. */
    @Test
    void aRequestStampedBefore1970OrBeyondAMillisecondCountIsRefused() {
        assertThat(RequestBounds.representable(Instant.EPOCH)).isTrue();
        assertThat(RequestBounds.representable(Instant.ofEpochMilli(Long.MAX_VALUE))).isTrue();
        assertThat(RequestBounds.representable(Instant.EPOCH.minusMillis(1))).isFalse();
        assertThat(RequestBounds.representable(Instant.ofEpochMilli(Long.MAX_VALUE).plusMillis(1))).isFalse();
        RequestLog old = new RequestLog("r1", K, H, "basemaps", "tile", 1, null, null,
                Instant.parse("1969-12-31T23:59:59Z"));
        assertThatThrownBy(() -> bounds.check(K, 0, old, NOW, NOW)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("before 1970");
    }
}
