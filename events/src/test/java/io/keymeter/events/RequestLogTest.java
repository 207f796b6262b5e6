package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestLogTest {

    private static final String HASH = ApiKeys.hashSecret("a-secret-nobody-should-see");

    @Test
    void toStringLeavesOutTheSecretHash() {
        RequestLog log = new RequestLog("r1", "key1", HASH, "geocoding", "op", 1, null, null, Instant.EPOCH);
        assertThat(log.toString()).contains("r1", "key1", "geocoding").doesNotContain(HASH);
    }

    @Test
    void aMissingTimestampIsFilledInAndAPresentOneKept() {
        RequestLog unstamped = new RequestLog("r1", "key1", HASH, "geocoding", "op", 1, null, null, null);
        assertThat(unstamped.withTimestampIfMissing(42).timestamp()).isEqualTo(Instant.ofEpochMilli(42));
        RequestLog stamped = unstamped.withTimestampIfMissing(42);
        assertThat(stamped.withTimestampIfMissing(7)).isSameAs(stamped);
    }

    @Test
    void lengthsAreCountedInCharactersNotUtf16Units() {
        String emoji = "\uD83D\uDE80"; // one character, two UTF-16 units
        assertThat(RequestLog.requestIdInBounds(emoji.repeat(RequestLog.MAX_REQUEST_ID_CHARS))).isTrue();
        assertThat(RequestLog.requestIdInBounds(emoji.repeat(RequestLog.MAX_REQUEST_ID_CHARS) + "r")).isFalse();
        assertThat(RequestLog.requestIdInBounds("r".repeat(RequestLog.MAX_REQUEST_ID_CHARS + 1))).isFalse();
        assertThat(RequestLog.requestIdInBounds("")).isFalse();
        assertThat(RequestLog.textInBounds(emoji.repeat(RequestLog.MAX_TEXT_CHARS))).isTrue();
        assertThat(RequestLog.textInBounds(emoji.repeat(RequestLog.MAX_TEXT_CHARS) + "t")).isFalse();
    }

    @Test
    void unitsAreBoundedFromOneToTheMostAnIntHolds() {
        assertThat(RequestLog.unitsInBounds(0)).isFalse();
        assertThat(RequestLog.unitsInBounds(-1)).isFalse();
        assertThat(RequestLog.unitsInBounds(1)).isTrue();
        assertThat(RequestLog.unitsInBounds(RequestLog.MAX_UNITS)).isTrue();
        assertThat(RequestLog.unitsInBounds(RequestLog.MAX_UNITS + 1)).isFalse();
        assertThat(RequestLog.unitsOutOfBounds(0)).isEqualTo("must be a positive integer");
        assertThat(RequestLog.unitsOutOfBounds(1)).isEqualTo("must be at most " + RequestLog.MAX_UNITS);
        assertThat(RequestLog.unitsOutOfBounds(RequestLog.MAX_UNITS + 1)).isEqualTo("must be at most 2147483647");
    }

    @Test
    void theFirstTextOverItsBoundIsNamed() {
        String tooLong = "x".repeat(RequestLog.MAX_TEXT_CHARS + 1);
        String longest = "x".repeat(RequestLog.MAX_TEXT_CHARS);
        assertThat(RequestLog.textOverBound(longest, longest, longest)).isEmpty();
        assertThat(RequestLog.textOverBound(null, null, null)).isEmpty();
        assertThat(RequestLog.textOverBound(tooLong, tooLong, tooLong)).contains("operation");
        assertThat(RequestLog.textOverBound("op", tooLong, tooLong)).contains("itemId");
        assertThat(RequestLog.textOverBound("op", "item", tooLong)).contains("referrer");
    }
}
