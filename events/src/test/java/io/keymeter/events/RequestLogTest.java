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
}
