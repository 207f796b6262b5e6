package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LosslessUtf8Test {

    /** What the dedupe store holds already must not change: text without a lone surrogate is its UTF-8. */
    @ParameterizedTest
    @ValueSource(strings = {"", "r-1", "why?", "??", "zürich", "東京", "a\uD83D\uDE00b?", "\uD83D\uDE00"})
    void textWithoutALoneSurrogateIsItsUtf8(String text) {
        assertThat(LosslessUtf8.bytes(text)).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aLoneSurrogateIsItsOwnThreeBytes() {
        assertThat(LosslessUtf8.bytes("r\uD800")).containsExactly('r', 0xED, 0xA0, 0x80);
        assertThat(LosslessUtf8.bytes("\uDFFFx?")).containsExactly(0xED, 0xBF, 0xBF, 'x', '?');
        assertThat(LosslessUtf8.bytes("\uD83D\uDE00\uDE00")).containsExactly(0xF0, 0x9F, 0x98, 0x80, 0xED, 0xB8, 0x80);
    }

    /** UTF-8 wrote each of these as "r?" or "r??": one requestId to the dedupe. */
    @Test
    void noTwoTextsShareBytes() {
        List<String> texts = List.of("r?", "r\uD800", "r\uD801", "r\uDC00", "r\uD800?", "r?\uD800", "r??",
                "r\uD800\uD800", "r\uDC00\uD800", "r\uD800\uDC00", "r\uD800\uDC00?");
        Set<String> distinct = new HashSet<>();
        for (String text : texts) {
            assertThat(distinct.add(new String(LosslessUtf8.bytes(text), StandardCharsets.ISO_8859_1))).as(text).isTrue();
        }
    }
}
