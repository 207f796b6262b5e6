package io.keymeter.events;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The API key format, modelled on GitHub's tokens: {@code km_<keyId>_<secret><checksum>}.
 * <ul>
 *   <li>{@code keyId}: 16 base62 characters, public, the key of every topic about the key;</li>
 *   <li>{@code secret}: 32 base62 characters from {@link SecureRandom} (about 190 bits);</li>
 *   <li>{@code checksum}: CRC32 of everything before it, 6 base62 characters, so a mistyped or truncated key is
 *       refused without any lookup.</li>
 * </ul>
 * Only the SHA-256 of the secret (lowercase hex) is ever stored or published. Gateways that produce to
 * {@code keymeter.requests} directly call {@link #parse(String)} to get the {@code keyId} and {@code secretHash}.
 */
public final class ApiKeys {

    public static final String PREFIX = "km_";
    public static final int KEY_ID_LENGTH = 16;
    public static final int SECRET_LENGTH = 32;
    public static final int CHECKSUM_LENGTH = 6;
    public static final int LENGTH = PREFIX.length() + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;
    /** Characters after {@code km_<keyId>_} from which {@link #redact} takes them for (part of) a secret. */
    public static final int MASKED_FROM = SECRET_LENGTH / 2;
    /** Characters of a secret hash: lowercase hex of SHA-256's 32 bytes. */
    public static final int SECRET_HASH_LENGTH = 64;

    private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(ApiKeys::newDigest);
    private static final HexFormat HEX = HexFormat.of();

    private ApiKeys() {
    }

    /** A new key with a fresh keyId. */
    public static GeneratedKey generate() {
        return generate(randomBase62(KEY_ID_LENGTH));
    }

    /** A new secret for the given keyId. */
    public static GeneratedKey generate(String keyId) {
        return assemble(keyId, randomBase62(SECRET_LENGTH));
    }

    /**
     * The key made of this keyId and secret (both base62, of the format's lengths). For tools that need
     * reproducible keys, such as seeded load generators; production keys come from {@link #generate()}.
     */
    public static GeneratedKey assemble(String keyId, String secret) {
        if (!isKeyId(keyId) || secret == null || secret.length() != SECRET_LENGTH || !isBase62(secret, 0, SECRET_LENGTH)) {
            throw new IllegalArgumentException("keyId or secret does not fit the key format");
        }
        String body = PREFIX + keyId + "_" + secret;
        return new GeneratedKey(keyId, body + checksum(body), hashSecret(secret));
    }

    /** A fresh random keyId. */
    public static String newKeyId() {
        return randomBase62(KEY_ID_LENGTH);
    }

    /**
     * Splits a key into its keyId and the hash of its secret, or empty when the prefix, length, alphabet or
     * checksum is wrong. Never throws and never keeps the plaintext.
     */
    public static Optional<ParsedKey> parse(String apiKey) {
        if (apiKey == null || apiKey.length() != LENGTH || !apiKey.startsWith(PREFIX)) {
            return Optional.empty();
        }
        int sep = PREFIX.length() + KEY_ID_LENGTH;
        if (apiKey.charAt(sep) != '_' || !isBase62(apiKey, PREFIX.length(), sep) || !isBase62(apiKey, sep + 1, LENGTH)) {
            return Optional.empty();
        }
        int checksumAt = LENGTH - CHECKSUM_LENGTH;
        String body = apiKey.substring(0, checksumAt);
        if (!checksum(body).equals(apiKey.substring(checksumAt))) {
            return Optional.empty();
        }
        return Optional.of(new ParsedKey(apiKey.substring(PREFIX.length(), sep), hashSecret(apiKey.substring(sep + 1, checksumAt))));
    }

    /** True when the string is shaped like a keyId (so it can be used in a topic key). */
    public static boolean isKeyId(String keyId) {
        return keyId != null && keyId.length() == KEY_ID_LENGTH && isBase62(keyId, 0, KEY_ID_LENGTH);
    }

    /** True when the string is shaped like a secret hash: 64 lowercase hex characters, as {@link #hashSecret} gives. */
    public static boolean isSecretHash(String secretHash) {
        if (secretHash == null || secretHash.length() != SECRET_HASH_LENGTH) {
            return false;
        }
        for (int i = 0; i < SECRET_HASH_LENGTH; i++) {
            char c = secretHash.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The text with the secret part of every key in it masked: each {@code km_<keyId>_} followed by at least
     * {@link #MASKED_FROM} base62 characters keeps its prefix and keyId (public), and each character after them
     * becomes {@code *}, so the text keeps its length. A mistyped key, or one cut within its secret, is masked too (it
     * still holds most of a secret); fewer characters leave at least as many unknown, and are not taken for a key (an
     * item may be called {@code km_basemapsEurope24_tiles}). Only keys written out in ASCII are found: a secret
     * without its {@code km_<keyId>_}, or escaped, percent-encoded or base64-encoded, stays. For texts a gateway
     * reports (a logged URL with {@code ?token=}) and for whatever is copied into a dead letter. The same text when
     * there is nothing to mask.
     */
    public static String redact(String text) {
        if (text == null || !text.contains(PREFIX)) {
            return text;
        }
        char[] chars = null;
        for (int at = text.indexOf(PREFIX); at >= 0; at = text.indexOf(PREFIX, at + 1)) {
            int secretFrom = at + PREFIX.length() + KEY_ID_LENGTH + 1;
            int end = secretFrom;
            // a key written right after another starts at its km_, which a secret never holds ('_' is not base62)
            while (end < text.length() && isBase62(text.charAt(end)) && !text.startsWith(PREFIX, end)) {
                end++;
            }
            // end >= secretFrom + MASKED_FROM: the text reaches past the keyId, its '_' and part of a secret
            if (end - secretFrom >= MASKED_FROM && text.charAt(secretFrom - 1) == '_'
                    && isBase62(text, at + PREFIX.length(), secretFrom - 1)) {
                if (chars == null) {
                    chars = text.toCharArray();
                }
                // every km_ is still looked at: one inside what was taken for a keyId here may start the real key
                Arrays.fill(chars, secretFrom, end, '*');
            }
        }
        return chars == null ? text : new String(chars);
    }

    /** Whether {@link #redact(String)} would mask anything in the text: it holds (most of) an API key. */
    public static boolean holdsKey(String text) {
        return redact(text) != text;
    }

    /**
     * {@link #redact(String)} on bytes in any ASCII-compatible encoding (UTF-8 among them: a multi-byte character
     * holds no ASCII byte, so masking leaves it whole): the same array when there is nothing to mask, else a copy.
     */
    public static byte[] redact(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        String latin1 = new String(bytes, StandardCharsets.ISO_8859_1); // one char a byte, both ways
        String redacted = redact(latin1);
        return redacted == latin1 ? bytes : redacted.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Lowercase hex SHA-256 of the secret. */
    public static String hashSecret(String secret) {
        MessageDigest digest = SHA256.get();
        digest.reset();
        return HEX.formatHex(digest.digest(secret.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Compares two secret hashes in constant time. */
    public static boolean hashesEqual(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }

    static String checksum(String body) {
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.US_ASCII));
        long value = crc.getValue();
        char[] out = new char[CHECKSUM_LENGTH];
        for (int i = CHECKSUM_LENGTH - 1; i >= 0; i--) {
            out[i] = BASE62.charAt((int) (value % 62));
            value /= 62;
        }
        return new String(out);
    }

    private static String randomBase62(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = BASE62.charAt(RANDOM.nextInt(62));
        }
        return new String(out);
    }

    private static boolean isBase62(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isBase62(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isBase62(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required", e);
        }
    }

    /** A key's public id and the hash of its secret: safe to keep and to publish. */
    public record ParsedKey(String keyId, String secretHash) {
        @Override
        public String toString() {
            return "ParsedKey[keyId=" + keyId + "]";
        }
    }

    /** A newly generated key. {@code apiKey} is shown to its owner once and then dropped; toString hides it. */
    public record GeneratedKey(String keyId, String apiKey, String secretHash) {
        @Override
        public String toString() {
            return "GeneratedKey[keyId=" + keyId + "]";
        }
    }
}
