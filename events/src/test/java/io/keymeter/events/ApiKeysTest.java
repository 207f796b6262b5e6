package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

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
}
