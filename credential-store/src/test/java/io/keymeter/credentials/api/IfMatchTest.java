package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.events.KeyStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class IfMatchTest {

    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void quotedVersionsAreTheCondition() {
        assertThat(IfMatch.versions("\"7\"")).containsExactly(7L);
        assertThat(IfMatch.versions(" \"7\", \"9\" ")).containsExactly(7L, 9L);
        assertThat(IfMatch.versions("\"7\",,\t\"9\",")).as("empty list elements (RFC 9110 §5.6.1)")
                .containsExactly(7L, 9L);
    }

    @Test
    void noHeaderOrAWildcardAloneIsNoCondition() {
        assertThat(IfMatch.versions((String) null)).isNull();
        assertThat(IfMatch.versions("*")).isNull();
        assertThat(IfMatch.versions(" * ")).isNull();
    }

    /** If-Match compares strongly: a weak tag never matches, nor a tag that is not one of our versions. */
    @Test
    void tagsThatCannotBeAVersionMatchNothing() {
        assertThat(IfMatch.versions("W/\"7\"")).isEmpty();
        assertThat(IfMatch.versions("\"abc\", \"0\", \"07\", \"\", \"7-Expired\", \"-expired\", \"a,b\""))
                .isEmpty();
        assertThat(IfMatch.versions("W/\"7-expired\"")).isEmpty();
        assertThat(IfMatch.versions("W/\"7\", \"8\"")).containsExactly(8L);
    }

    /**
     * Anything but * alone or a list of quoted tags is a caller's mistake: refused, never taken as "no condition" nor
     * read in part. Spring's lenient parser made {@code 7, *} unconditional and {@code 7, "8"} a condition on 8.
     */
    @Test
    void aValueThatIsNoListOfEntityTagsIsRefused() {
        for (String header : new String[] {"7", "\"7", "\"7\", *", "*, \"7\"", "7, *", "x*", "7, \"8\"",
                "\"7\", \"8", "\"7\" \"8\"", "\"7\"x", "\"a b\"", "w/\"7\"", "W/7", "**", "\u000b*", "*\r\n"}) {
            assertThatThrownBy(() -> IfMatch.versions(header)).as("[%s]", header)
                    .isInstanceOf(IllegalArgumentException.class).hasMessage(IfMatch.MALFORMED);
        }
    }

    /** A list may be empty (RFC 9110 §5.6.1): no tag, so nothing matches (412), never "no condition". */
    @Test
    void aListWithoutTagsMatchesNothing() {
        for (String header : new String[] {"", " ", ",", " ,\t, "}) {
            assertThat(IfMatch.versions(header)).as("[%s]", header).isEmpty();
        }
    }

    @Test
    void theTagIsTheVersion() {
        Credential credential = credential(new Credential.Key(1, "k", null, KeyStatus.ACTIVE, NOW.plusSeconds(1), NOW,
                null, null, false));
        assertThat(IfMatch.tag(credential, NOW)).isEqualTo("12");
        assertThat(IfMatch.versions("\"" + IfMatch.tag(credential, NOW) + "\"")).containsExactly(12L);
    }

    /**
     * A key past its expiration reads expired before its expiry is stored (the version has not moved): the tag
     * changes with the view, so a conditional read never answers 304 over a changed status.
     */
    @Test
    void aKeyReadExpiredBeforeItsExpiryIsStoredChangesTheTag() {
        Credential credential = credential(new Credential.Key(1, "k", null, KeyStatus.ACTIVE, NOW, NOW.minusSeconds(60),
                null, null, false));
        assertThat(IfMatch.tag(credential, NOW.minusMillis(1))).isEqualTo("12");
        assertThat(IfMatch.tag(credential, NOW)).isEqualTo("12-expired");
        // a change made over that read is decided on version 12, its key's expiry stored first: what the read showed
        assertThat(IfMatch.versions("\"" + IfMatch.tag(credential, NOW) + "\"")).containsExactly(12L);
        Credential stored = credential(new Credential.Key(1, "k", null, KeyStatus.EXPIRED, NOW, NOW.minusSeconds(60),
                null, null, false));
        assertThat(IfMatch.tag(stored, NOW)).isEqualTo("12");
    }

    private static Credential credential(Credential.Key key) {
        return new Credential("c", "acme", "n", List.of("premium:user:basemaps"), List.of(), List.of(), List.of(key),
                NOW.minusSeconds(600), NOW.minusSeconds(60), 12);
    }
}
