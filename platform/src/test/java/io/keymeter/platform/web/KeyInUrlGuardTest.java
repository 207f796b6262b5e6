package io.keymeter.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.ApiKeys;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** A key in a URL's path or query, as sent or percent-encoded, is refused with 400 before anything reads the URL. */
class KeyInUrlGuardTest {

    private final String key = ApiKeys.generate().apiKey();
    private final String secret = key.substring(20, 52);

    @Test
    void aKeyInTheQueryOrThePathIsRefusedAndNotEchoed() throws Exception {
        for (String[] url : new String[][] {{"/v1/verify", "apiKey=" + key},
                {"/v1/verify", "token=" + key.replace("_", "%5F")}, {"/v1/credentials/" + key, null},
                {"/v1/verify", "x=%zz&apiKey=" + key.replace("_", "%5f")}, // a bad escape beside it
                {"/v1/verify", "apiKey=" + key.replace("_", "%255F")}, // escaped twice
                {"/v1/credentials/" + key.replace("_", "%5F") + "/keys", null}}) {
            MockHttpServletRequest request = new MockHttpServletRequest("POST", url[0]);
            request.setQueryString(url[1]);
            MockHttpServletResponse response = new MockHttpServletResponse();
            MockFilterChain chain = new MockFilterChain();
            new KeyInUrlGuard().doFilter(request, response, chain);
            assertThat(chain.getRequest()).as("passed on: %s", (Object) url).isNull();
            assertThat(response.getStatus()).isEqualTo(400);
            assertThat(response.getContentType()).isEqualTo(Problems.MEDIA_TYPE);
            assertThat(response.getHeader("Cache-Control")).isEqualTo("no-store");
            assertThat(response.getContentAsString()).contains(KeyInUrlGuard.DETAIL).contains("\"instance\"")
                    .doesNotContain(secret.substring(0, 16)).doesNotContain(secret.substring(16));
        }
    }

    @Test
    void aUrlWithoutAKeyPasses() throws Exception {
        // a keyId alone, as a credential's key list shows it, is no secret
        String keyId = key.substring(0, 19);
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1/credentials/" + keyId);
        request.setQueryString("cycle=2026-12&credentialId=" + keyId + "_x");
        MockFilterChain chain = new MockFilterChain();
        MockHttpServletResponse response = new MockHttpServletResponse();
        new KeyInUrlGuard().doFilter(request, response, chain);
        assertThat(chain.getRequest()).isSameAs(request);
        assertThat(response.getStatus()).isEqualTo(200);
        assertThat(KeyInUrlGuard.holdsKey(null)).isFalse();
        // near misses: the prefix and a keyId-long word, but a secret too short to be one
        assertThat(KeyInUrlGuard.holdsKey("/v1/x/km_basemapsEurope24_tiles")).isFalse();
        assertThat(KeyInUrlGuard.holdsKey("/v1/x/" + key.substring(0, 20 + 15))).isFalse();
        assertThat(KeyInUrlGuard.holdsKey("/v1/x/" + key.substring(0, 20 + 16))).isTrue();
        assertThat(KeyInUrlGuard.decoded("/a+b%2Bc%zz%4")).isEqualTo("/a+b+c%zz%4");
        assertThat(KeyInUrlGuard.decoded("/a%4F")).isEqualTo("/aO");
        assertThat(KeyInUrlGuard.decoded("/%F0%9F%94%91-%E2%82%AC")).as("a sequence over several escapes")
                .isEqualTo("/\uD83D\uDD11-\u20AC");
        assertThat(KeyInUrlGuard.masked("/x/" + key.replace("_", "%5F"))).startsWith("/x/km_")
                .doesNotContain(secret.substring(0, 16));
        assertThat(KeyInUrlGuard.masked("/v1/credentials/..;/x")).isEqualTo("/v1/credentials/..;/x");
    }
}
