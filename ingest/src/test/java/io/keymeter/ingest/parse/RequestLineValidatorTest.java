package io.keymeter.ingest.parse;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class RequestLineValidatorTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private final RequestLineValidator validator = new RequestLineValidator(Clock.fixed(NOW, ZoneOffset.UTC),
            Duration.ofDays(35), Duration.ofMinutes(5));
    private final ApiKeys.GeneratedKey key = ApiKeys.generate();

    private RawLine line(String requestId, String apiKey, String service, Long units, String timestamp) {
        return new RawLine(requestId, apiKey, service, "tile", units, null, null, timestamp, null);
    }

    private String error(RawLine raw) {
        return ((LineOutcome.Invalid) validator.validate(raw)).error();
    }

    @Test
    void aGoodLineBecomesARequestWithKeyIdAndHashOnly() {
        LineOutcome outcome = validator.validate(line("r1", key.apiKey(), "basemaps", null, "2026-11-26T11:00:00Z"));

        var request = ((LineOutcome.Accepted) outcome).request();
        assertThat(request.keyId()).isEqualTo(key.keyId());
        assertThat(request.secretHash()).isEqualTo(key.secretHash());
        assertThat(request.units()).isEqualTo(1);
        assertThat(request.toString()).doesNotContain(key.apiKey());
    }

    /**
     * A gateway that logs the URL it served logs the key with it when the client sent it as {@code ?token=} (as
     * ArcGIS clients do): the line was written to the topic as it came. Now every key's secret in the texts is masked
     * (the line still billed and judged: the referrer's host stays), and a requestId holding one is refused (masked,
     * two requests of one key would share an id, the second dropped as a resend).
     */
    @Test
    void aKeyInALinesTextsIsMaskedAndARequestIdHoldingOneRefused() {
        String masked = "km_" + key.keyId() + "_" + "*".repeat(38);
        String ts = "2026-11-26T11:00:00Z";
        RawLine logged = new RawLine("r1", key.apiKey(), "basemaps", "GET /tile/3/2/1?token=" + key.apiKey(), 1L,
                "item-" + key.apiKey(), "https://app.example.com/map?token=" + key.apiKey(), ts, null);
        RequestLog request = ((LineOutcome.Accepted) validator.validate(logged)).request();
        assertThat(request.operation()).isEqualTo("GET /tile/3/2/1?token=" + masked);
        assertThat(request.itemId()).isEqualTo("item-" + masked);
        assertThat(request.referrer()).isEqualTo("https://app.example.com/map?token=" + masked);
        assertThat(request.keyId()).isEqualTo(key.keyId());

        RawLine mistyped = new RawLine("r2", "km_nope", "basemaps", "GET /tile?token=" + key.apiKey(), 1L, null,
                "https://app.example.com/?token=" + key.apiKey(), ts, null);
        var rejection = ((LineOutcome.MalformedKey) validator.validate(mistyped)).rejection();
        assertThat(rejection.operation()).isEqualTo("GET /tile?token=" + masked);
        assertThat(rejection.referrer()).isEqualTo("https://app.example.com/?token=" + masked);

        assertThat(error(line("gw-" + key.apiKey(), key.apiKey(), "basemaps", 1L, ts)))
                .isEqualTo("requestId: holds an API key (km_…): give each request an id of the gateway's own");
        RawLine plain = line("r3", key.apiKey(), "basemaps", 1L, ts);
        assertThat(((LineOutcome.Accepted) validator.validate(plain)).request().operation()).isSameAs(plain.operation());
    }

    @Test
    void eachRuleNamesItsFieldWithoutEchoingTheValue() {
        String ts = "2026-11-26T11:00:00Z";
        assertThat(error(line(null, key.apiKey(), "basemaps", 1L, ts))).isEqualTo("requestId: is required");
        assertThat(error(line("x".repeat(129), key.apiKey(), "basemaps", 1L, ts))).startsWith("requestId: must be 1-128");
        assertThat(error(line("r", null, "basemaps", 1L, ts))).isEqualTo("apiKey: is required");
        assertThat(error(line("r", key.apiKey(), null, 1L, ts))).isEqualTo("service: is required");
        assertThat(error(line("r", key.apiKey(), "teleport", 1L, ts))).startsWith("service: is not").doesNotContain("teleport");
        assertThat(error(new RawLine("r", key.apiKey(), "basemaps", null, 1L, null, null, ts, null)))
                .isEqualTo("operation: is required");
        assertThat(error(new RawLine("r", key.apiKey(), "basemaps", "", 1L, null, null, ts, null)))
                .isEqualTo("operation: is required");
        assertThat(error(line("r", key.apiKey(), "basemaps", 0L, ts))).isEqualTo("units: must be a positive integer");
        assertThat(error(line("r", key.apiKey(), "basemaps", RequestLog.MAX_UNITS + 1, ts)))
                .isEqualTo("units: must be at most 2147483647"); // it said "a positive integer" of a positive one
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, null))).isEqualTo("timestamp: is required");
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, "yesterday"))).startsWith("timestamp: must be an RFC 3339");
        // Instant.parse takes these (the next day's midnight; a point without digits); RFC 3339 does not
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, "2026-11-25T24:00:00Z"))).startsWith("timestamp: must be an RFC 3339");
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, "2026-11-26T11:00:00.Z"))).startsWith("timestamp: must be an RFC 3339");
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, "2026-10-01T00:00:00Z")))
                .isEqualTo("timestamp: is older than the accepted P35D (keymeter.ingest.max-age)");
        assertThat(error(line("r", key.apiKey(), "basemaps", 1L, "2026-11-26T12:06:00Z")))
                .isEqualTo("timestamp: is more than PT5M in the future (keymeter.ingest.max-future-skew)");
    }

    /**
     * A max-age may reach back past 1970 (up to 36500 days): a line stamped before it was accepted, and metering, which
     * can give it no record time, dead-lettered it behind the 202.
     */
    @Test
    void aLineBefore1970IsRefusedWhateverTheMaxAge() {
        RequestLineValidator longMemory = new RequestLineValidator(Clock.fixed(NOW, ZoneOffset.UTC),
                Duration.ofDays(36_500), Duration.ofMinutes(5));
        LineOutcome before = longMemory.validate(line("r", key.apiKey(), "basemaps", 1L, "1969-12-31T23:59:59.999Z"));
        assertThat(((LineOutcome.Invalid) before).error()).isEqualTo("timestamp: must not be before 1970-01-01T00:00:00Z");
        assertThat(longMemory.validate(line("r", key.apiKey(), "basemaps", 1L, "1970-01-01T00:00:00Z")))
                .isInstanceOf(LineOutcome.Accepted.class);
    }

    @Test
    void theWindowEdgesAreInclusive() {
        assertThat(validator.validate(line("r", key.apiKey(), "routing", 2L, "2026-11-26T12:05:00Z")))
                .isInstanceOf(LineOutcome.Accepted.class);
        assertThat(validator.validate(line("r", key.apiKey(), "routing", 2L, "2026-10-22T12:00:00Z")))
                .isInstanceOf(LineOutcome.Accepted.class);
        assertThat(validator.validate(line("r", key.apiKey(), "routing", RequestLog.MAX_UNITS, "2026-11-26T11:00:00Z")))
                .isInstanceOf(LineOutcome.Accepted.class);
    }

    /** The limits metering applies to requests produced directly too (RequestLog's predicates). */
    @Test
    void aRequestIdOf1To128CharactersAndTextsUpTo2048Pass() {
        String ts = "2026-11-26T11:00:00Z";
        assertThat(validator.validate(line("r".repeat(128), key.apiKey(), "basemaps", 1L, ts)))
                .isInstanceOf(LineOutcome.Accepted.class);
        assertThat(error(line("", key.apiKey(), "basemaps", 1L, ts))).startsWith("requestId: must be 1-128");
        String limit = "t".repeat(2048);
        assertThat(validator.validate(new RawLine("r", key.apiKey(), "basemaps", limit, 1L, limit, limit, ts, null)))
                .isInstanceOf(LineOutcome.Accepted.class);
        assertThat(error(new RawLine("r", key.apiKey(), "basemaps", limit + "t", 1L, null, null, ts, null)))
                .isEqualTo("operation: must be at most 2048 characters");
        assertThat(error(new RawLine("r", key.apiKey(), "basemaps", "tile", 1L, limit + "t", null, ts, null)))
                .isEqualTo("itemId: must be at most 2048 characters");
        assertThat(error(new RawLine("r", key.apiKey(), "basemaps", "tile", 1L, null, limit + "t", ts, null)))
                .isEqualTo("referrer: must be at most 2048 characters");
    }

    @Test
    void aMalformedKeyOnAnOtherwiseGoodLineIsARejectionWithoutAnyKeyMaterial() {
        String tampered = key.apiKey().substring(0, key.apiKey().length() - 1) + "#";
        LineOutcome outcome = validator.validate(line("r2", tampered, "geocoding", 3L, "2026-11-26T11:00:00Z"));

        var rejection = ((LineOutcome.MalformedKey) outcome).rejection();
        assertThat(rejection.reason()).isEqualTo(RejectionReason.MALFORMED_KEY);
        assertThat(rejection.keyId()).isNull();
        assertThat(rejection.requestId()).isEqualTo("r2");
        assertThat(rejection.units()).isEqualTo(3);
        // all of the key but its last character is the secret: none of it in what goes to keymeter.rejections
        String written = new String(Topics.REJECTIONS.valueSerde().serializer().serialize(Topics.REJECTIONS.name(),
                rejection), StandardCharsets.UTF_8);
        assertThat(written).contains("\"requestId\":\"r2\"")
                .doesNotContain(tampered.substring(ApiKeys.PREFIX.length() + ApiKeys.KEY_ID_LENGTH + 1,
                        tampered.length() - 1))
                .doesNotContain(key.keyId());
    }

    /** Verify answers an empty key malformed-key; ingest refused its line, and the refusal was counted nowhere. */
    @Test
    void anEmptyKeyIsAMalformedKey() {
        LineOutcome outcome = validator.validate(line("r4", "", "geocoding", 1L, "2026-11-26T11:00:00Z"));

        assertThat(((LineOutcome.MalformedKey) outcome).rejection().reason()).isEqualTo(RejectionReason.MALFORMED_KEY);
    }

    @Test
    void aMalformedKeyOnABadLineIsALineError() {
        assertThat(validator.validate(line("r3", "km_nope", "teleport", 1L, "2026-11-26T11:00:00Z")))
                .isInstanceOf(LineOutcome.Invalid.class);
    }

    @Test
    void aLineTheReaderFoundAFieldOfTheWrongTypeInIsInvalidInTheReadersWords() {
        RawLine raw = new RawLine("r1", key.apiKey(), "basemaps", "tile", null, null, null, "2026-11-26T11:00:00Z",
                "units: must be a positive integer");

        assertThat(error(raw)).isEqualTo("units: must be a positive integer");
    }
}
