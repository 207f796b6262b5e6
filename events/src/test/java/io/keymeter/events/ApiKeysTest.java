package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void generatedKeyParsesToItsKeyIdAndSecretHash() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();

        assertThat(key.apiKey()).startsWith("km_" + key.keyId() + "_").hasSize(ApiKeys.LENGTH);
        assertThat(ApiKeys.parse(key.apiKey())).contains(new ApiKeys.ParsedKey(key.keyId(), key.secretHash()));
        assertThat(key.secretHash()).matches("[0-9a-f]{64}");
    }

    @Test
    void everySingleCharacterTypoIsRefusedByTheChecksum() {
        String apiKey = ApiKeys.generate().apiKey();
        for (int i = ApiKeys.PREFIX.length(); i < apiKey.length(); i++) {
            if (apiKey.charAt(i) == '_') {
                continue;
            }
            char replacement = apiKey.charAt(i) == 'a' ? 'b' : 'a';
            String typo = apiKey.substring(0, i) + replacement + apiKey.substring(i + 1);
            assertThat(ApiKeys.parse(typo)).as("typo at %d", i).isEmpty();
        }
    }

    @Test
    void truncatedWrongPrefixAndForeignCharactersAreRefused() {
        String apiKey = ApiKeys.generate().apiKey();
        assertThat(ApiKeys.parse(apiKey.substring(0, apiKey.length() - 1))).isEmpty();
        assertThat(ApiKeys.parse("xx_" + apiKey.substring(3))).isEmpty();
        assertThat(ApiKeys.parse(apiKey.substring(0, 10) + "-" + apiKey.substring(11))).isEmpty();
        assertThat(ApiKeys.parse(null)).isEmpty();
        assertThat(ApiKeys.parse("")).isEmpty();
    }

    @Test
    void twoKeysNeverShareASecretAndToStringHidesThePlaintext() {
        ApiKeys.GeneratedKey a = ApiKeys.generate();
        ApiKeys.GeneratedKey b = ApiKeys.generate(a.keyId());

        assertThat(a.secretHash()).isNotEqualTo(b.secretHash());
        assertThat(a.toString()).doesNotContain(a.apiKey()).doesNotContain(a.secretHash());
        assertThat(ApiKeys.parse(a.apiKey()).orElseThrow().toString()).doesNotContain(a.secretHash());
    }

    @Test
    void hashesCompareByValue() {
        String hash = ApiKeys.hashSecret("s3cret");
        assertThat(ApiKeys.hashesEqual(hash, ApiKeys.hashSecret("s3cret"))).isTrue();
        assertThat(ApiKeys.hashesEqual(hash, ApiKeys.hashSecret("other"))).isFalse();
        assertThat(ApiKeys.hashesEqual(hash, null)).isFalse();
    }

    /** The checksum alone does not guard the alphabet: a key made with a foreign character and a matching checksum. */
    @Test
    void aForeignCharacterIsRefusedEvenUnderAMatchingChecksum() {
        String keyId = "abcdefgh-jklmnop";
        String secret = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
        String withForeignKeyId = ApiKeys.PREFIX + keyId + "_" + secret;
        assertThat(ApiKeys.parse(withForeignKeyId + ApiKeys.checksum(withForeignKeyId))).isEmpty();
        String withForeignSecret = ApiKeys.PREFIX + "abcdefghijklmnop_" + "0123456789ABCDEFGHIJKLMNOPQRST\u00e9V";
        assertThat(ApiKeys.parse(withForeignSecret + ApiKeys.checksum(withForeignSecret))).isEmpty();
        String wellFormed = ApiKeys.PREFIX + "abcdefghijklmnop_" + secret;
        assertThat(ApiKeys.parse(wellFormed + ApiKeys.checksum(wellFormed))).isPresent();
    }

    @Test
    void aKeyIdIsSixteenBase62Characters() {
        assertThat(ApiKeys.isKeyId("abcdefghijklmnop")).isTrue();
        assertThat(ApiKeys.isKeyId("AZaz09AZaz09AZaz")).isTrue();
        assertThat(ApiKeys.isKeyId(ApiKeys.newKeyId())).isTrue();
        assertThat(ApiKeys.isKeyId("abcdefghijklmno")).isFalse();
        assertThat(ApiKeys.isKeyId("abcdefghijklmnopq")).isFalse();
        assertThat(ApiKeys.isKeyId("abcdefgh/jklmnop")).isFalse();
        assertThat(ApiKeys.isKeyId("abcdefgh_jklmnop")).isFalse();
        assertThat(ApiKeys.isKeyId(null)).isFalse();
    }

    @Test
    void aSecretHashIsSixtyFourLowercaseHexCharacters() {
        assertThat(ApiKeys.isSecretHash(ApiKeys.hashSecret("s3cret"))).isTrue();
        assertThat(ApiKeys.isSecretHash(ApiKeys.generate().secretHash())).isTrue();
        assertThat(ApiKeys.isSecretHash("0123456789abcdef".repeat(4))).isTrue();
        assertThat(ApiKeys.isSecretHash(ApiKeys.hashSecret("s3cret").toUpperCase())).isFalse(); // .NET's ToHexString
        assertThat(ApiKeys.isSecretHash("0123456789abcdef".repeat(4).substring(1))).isFalse();
        assertThat(ApiKeys.isSecretHash("0123456789abcdef".repeat(4) + "0")).isFalse();
        assertThat(ApiKeys.isSecretHash("g" + "0".repeat(63))).isFalse();
        assertThat(ApiKeys.isSecretHash(ApiKeys.generate().apiKey())).isFalse();
        assertThat(ApiKeys.isSecretHash(null)).isFalse();
    }

    @Test
    void redactMasksTheSecretOfEveryKeyInATextKeepingItsKeyIdAndLength() {
        ApiKeys.GeneratedKey one = ApiKeys.generate();
        ApiKeys.GeneratedKey two = ApiKeys.generate();
        String masked = "km_" + one.keyId() + "_" + "*".repeat(ApiKeys.SECRET_LENGTH + ApiKeys.CHECKSUM_LENGTH);
        String url = "GET /arcgis/rest/services/World/MapServer/tile/3/2/1?token=" + one.apiKey() + "&f=json";
        assertThat(ApiKeys.redact(url)).isEqualTo("GET /arcgis/rest/services/World/MapServer/tile/3/2/1?token="
                + masked + "&f=json");
        assertThat(ApiKeys.redact(one.apiKey() + "," + two.apiKey())).doesNotContain(one.apiKey().substring(20, 52))
                .doesNotContain(two.apiKey().substring(20, 52)).contains(one.keyId()).contains(two.keyId())
                .hasSize(2 * ApiKeys.LENGTH + 1);
        String truncated = one.apiKey().substring(0, 36); // still half a secret
        assertThat(ApiKeys.redact("x" + truncated)).isEqualTo("x" + truncated.substring(0, 20) + "*".repeat(16));
        // after km_ and 14 characters, the key's own km_ is read as the end of a keyId, its keyId as a secret: the
        // key's km_ is still looked at, and its secret masked
        assertThat(ApiKeys.redact("km_AAAAAAAAAAAAAA" + one.apiKey())).doesNotContain(one.apiKey().substring(20, 52))
                .endsWith("_" + "*".repeat(ApiKeys.SECRET_LENGTH + ApiKeys.CHECKSUM_LENGTH));
        // written back to back: the second key starts at its km_, which no secret holds
        assertThat(ApiKeys.redact(one.apiKey() + two.apiKey())).isEqualTo(masked + "km_" + two.keyId() + "_"
                + "*".repeat(ApiKeys.SECRET_LENGTH + ApiKeys.CHECKSUM_LENGTH));
        for (String untouched : new String[] {"https://app.example.com/", "km_", "km_" + one.keyId(),
                "km_" + one.keyId() + "_", "km_short_secret", "km_" + one.keyId() + "-abc", "",
                "km_basemapsEurope24_tiles", one.apiKey().substring(0, 35)}) { // an item's name; under half a secret
            assertThat(ApiKeys.redact(untouched)).as(untouched).isSameAs(untouched);
        }
        assertThat(ApiKeys.redact((String) null)).isNull();
    }

    @Test
    void redactOnBytesKeepsEveryOtherByteEvenInvalidUtf8() {
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        byte[] text = ("{\"note\":\"é " + key.apiKey() + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[text.length + 2];
        System.arraycopy(text, 0, bytes, 1, text.length);
        bytes[0] = (byte) 0xff; // not UTF-8
        bytes[bytes.length - 1] = (byte) 0xc3;
        byte[] redacted = ApiKeys.redact(bytes);
        assertThat(redacted).hasSameSizeAs(bytes).isNotSameAs(bytes);
        assertThat(redacted[0]).isEqualTo((byte) 0xff);
        assertThat(redacted[redacted.length - 1]).isEqualTo((byte) 0xc3);
        assertThat(new String(redacted, 1, text.length, StandardCharsets.UTF_8)).isEqualTo("{\"note\":\"é km_"
                + key.keyId() + "_" + "*".repeat(38) + "\"}");
        byte[] clean = "{\"requestId\":\"r1\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(ApiKeys.redact(clean)).isSameAs(clean);
        assertThat(ApiKeys.redact((byte[]) null)).isNull();
    }

    /** The checksum is part of the key format: a key issued by an earlier version must still parse. */
    @Test
    void theChecksumOfAKnownBodyIsUnchanged() {
        String body = ApiKeys.PREFIX + "abcdefghijklmnop_0123456789ABCDEFGHIJKLMNOPQRSTUV";
        assertThat(ApiKeys.checksum(body)).isEqualTo("0gRWxk");
        assertThat(ApiKeys.parse(body + "0gRWxk")).isPresent();
    }
}
