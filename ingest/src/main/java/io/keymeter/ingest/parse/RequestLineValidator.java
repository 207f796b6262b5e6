package io.keymeter.ingest.parse;

import io.keymeter.events.ApiKeys;
import io.keymeter.events.Rejection;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.events.Timestamps;
import io.keymeter.platform.config.DurationText;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Validates one line on its own and hashes its key at once: the plaintext key goes no further than this class, and
 * a key found in the line's texts has its secret masked ({@link ApiKeys#redact}). Error messages name the field and
 * the rule, never the value.
 */
public final class RequestLineValidator {

    /** Record key of malformed-key rejections: there is no keyId to key them by. Not a valid keyId shape. */
    public static final String MALFORMED_KEY_ID = "malformed";

    private final Clock clock;
    private final Duration maxAge;
    private final Duration maxFutureSkew;

    public RequestLineValidator(Clock clock, Duration maxAge, Duration maxFutureSkew) {
        this.clock = clock;
        this.maxAge = maxAge;
        this.maxFutureSkew = maxFutureSkew;
    }

    public LineOutcome validate(RawLine line) {
        if (line.typeError() != null) {
            return new LineOutcome.Invalid(line.typeError());
        }
        if (line.requestId() == null) {
            return invalid("requestId", "is required");
        }
        if (!RequestLog.requestIdInBounds(line.requestId())) {
            return invalid("requestId", RequestLog.REQUEST_ID_OUT_OF_BOUNDS);
        }
        if (ApiKeys.holdsKey(line.requestId())) {
            // masked, two requests of one key would share an id and the second be dropped as a resend
            return invalid("requestId", RequestLog.REQUEST_ID_HOLDS_A_KEY);
        }
        // a line without the field is the gateway's (a misspelt name): refused. An empty or null key is the
        // client's, sent as it came: malformed-key, as verify answers it (CONTRACT: a malformed key is taken and
        // recorded; the reader reads a null key as empty)
        if (line.apiKey() == null) {
            return invalid("apiKey", "is required");
        }
        if (line.service() == null) {
            return invalid("service", "is required");
        }
        if (ServiceCatalog.byService(line.service()).isEmpty()) {
            return invalid("service", ServiceCatalog.NOT_IN_CATALOG);
        }
        if (line.operation() == null || line.operation().isEmpty()) {
            return invalid("operation", "is required"); // CONTRACT §3: itemId and referrer are optional, units defaults to 1
        }
        long units = line.units() == null ? 1 : line.units();
        if (!RequestLog.unitsInBounds(units)) {
            return invalid("units", RequestLog.unitsOutOfBounds(units));
        }
        Optional<String> tooLong = RequestLog.textOverBound(line.operation(), line.itemId(), line.referrer());
        if (tooLong.isPresent()) {
            return invalid(tooLong.get(), RequestLog.TEXT_TOO_LONG);
        }
        if (line.timestamp() == null) {
            return invalid("timestamp", "is required");
        }
        Instant timestamp;
        try {
            timestamp = Timestamps.parse(line.timestamp());
        } catch (DateTimeParseException e) {
            return invalid("timestamp", Timestamps.NOT_RFC_3339);
        }
        if (timestamp.isBefore(Instant.EPOCH)) {
            // within a max-age reaching back past 1970 (up to 36500 days is allowed): metering can give such a
            // request no record time and dead-letters it, so taking it would lose it behind a 202
            return invalid("timestamp", Timestamps.BEFORE_1970);
        }
        Instant now = clock.instant();
        if (timestamp.isBefore(now.minus(maxAge))) {
            return invalid("timestamp", "is older than the accepted " + DurationText.of(maxAge) + " (keymeter.ingest.max-age)");
        }
        if (timestamp.isAfter(now.plus(maxFutureSkew))) {
            return invalid("timestamp", "is more than " + DurationText.of(maxFutureSkew)
                    + " in the future (keymeter.ingest.max-future-skew)");
        }
        // a gateway that logs the URL it served may log a key with it (ArcGIS clients send ?token=): masked, so it
        // reaches no topic, whichever the line's outcome
        String operation = ApiKeys.redact(line.operation());
        String itemId = ApiKeys.redact(line.itemId());
        String referrer = ApiKeys.redact(line.referrer());
        Optional<ApiKeys.ParsedKey> key = ApiKeys.parse(line.apiKey());
        if (key.isEmpty()) {
            return new LineOutcome.MalformedKey(new Rejection(line.requestId(), null, null, null, line.service(),
                    operation, units, itemId, referrer, timestamp, RejectionReason.MALFORMED_KEY));
        }
        return new LineOutcome.Accepted(new RequestLog(line.requestId(), key.get().keyId(), key.get().secretHash(),
                line.service(), operation, units, itemId, referrer, timestamp));
    }

    private static LineOutcome invalid(String field, String message) {
        return new LineOutcome.Invalid(field + ": " + message);
    }
}
