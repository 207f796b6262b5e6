package io.keymeter.metering.enforcement;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A string's UTF-8 bytes, except that a lone surrogate (half of a pair, an id cut in the middle of an emoji) is
 * written as its own three bytes (as WTF-8 does) where UTF-8 writes {@code ?}. So two strings never share bytes:
 * {@code "r\uD800"}, {@code "r\uD801"} and {@code "r?"}, three requestIds ingest takes, were one to the dedupe, and
 * the second and third were dropped as resends. Text without a lone surrogate gets exactly its UTF-8 bytes, which
 * the dedupe store holds already.
 */
final class LosslessUtf8 {

    private LosslessUtf8() {
    }

    static byte[] bytes(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        // UTF-8 writes a lone surrogate as '?': without one among the bytes there is none to write another way
        return indexOfQuestionMark(utf8) < 0 ? utf8 : withLoneSurrogates(text, utf8);
    }

    /** Code point by code point: {@link String#codePoints()} pairs the halves itself and hands a lone one on alone. */
    private static byte[] withLoneSurrogates(String text, byte[] utf8) {
        if (text.codePoints().noneMatch(LosslessUtf8::isSurrogate)) {
            return utf8;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(utf8.length + 8);
        text.codePoints().forEach(c -> {
            if (isSurrogate(c)) {
                out.write(0xE0 | c >> 12);
                out.write(0x80 | c >> 6 & 0x3F);
                out.write(0x80 | c & 0x3F);
            } else {
                out.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
    }

    private static boolean isSurrogate(int codePoint) {
        return codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE;
    }

    private static int indexOfQuestionMark(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '?') {
                return i;
            }
        }
        return -1;
    }
}
