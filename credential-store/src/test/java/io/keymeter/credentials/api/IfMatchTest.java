package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.platform.web.ApiProblem;
import org.junit.jupiter.api.Test;

class IfMatchTest {

    @Test
    void quotedVersionsAreTheCondition() {
        assertThat(IfMatch.versions("\"7\"")).containsExactly(7L);
        assertThat(IfMatch.versions("\"7\", \"9\"")).containsExactly(7L, 9L);
    }

    @Test
    void noHeaderOrAWildcardIsNoCondition() {
        assertThat(IfMatch.versions((String) null)).isNull();
        assertThat(IfMatch.versions("*")).isNull();
    }

    /** If-Match compares strongly: a weak tag never matches, nor a tag that is not one of our versions. */
    @Test
    void tagsThatCannotBeAVersionMatchNothing() {
        assertThat(IfMatch.versions("W/\"7\"")).isEmpty();
        assertThat(IfMatch.versions("\"abc\", \"0\", \"07\", \"\"")).isEmpty();
        assertThat(IfMatch.versions("W/\"7\", \"8\"")).containsExactly(8L);
    }

    /** An unquoted version is a caller's mistake: refused, never taken as "no condition". */
    @Test
    void aValueThatIsNoListOfEntityTagsIsRefused() {
        for (String header : new String[] {"7", "", " ", "\"7"}) {
            assertThatThrownBy(() -> IfMatch.versions(header)).as(header).isInstanceOfSatisfying(ApiProblem.class,
                    p -> {
                        assertThat(p.status()).isEqualTo(400);
                        assertThat(p.errors()).extracting(ApiProblem.FieldError::field).containsExactly("If-Match");
                    });
        }
    }

    @Test
    void theTagIsTheVersion() {
        assertThat(IfMatch.tag(12)).isEqualTo("12");
    }
}
