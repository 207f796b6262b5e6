package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReferrersTest {

    private static final List<String> WILDCARD = List.of("https://*.example.com");

    @ParameterizedTest
    @ValueSource(strings = {"https://example.com", "https://*.example.com", "http://localhost:8080",
            "https://app.example.com/maps", "https://*.example.com:8443/a/b", "https://EXAMPLE.com/"})
    void wellFormedPatternsAreValid(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "example.com", "https://", "https://*", "https://a.*.example.com",
            "https://*example.com", "https://**.example.com", "https://example.com:0", "https://example.com:99999",
            "https://example.com:", "https://ex ample.com", "https://example.com?x=1", "https://example.com#f",
            "https://user@example.com", "https://-bad.com", "https://example..com", "1https://example.com",
            "https://example.com/a b"})
    void malformedPatternsAreInvalid(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
    }

    /**
     * A host ending in a number is an IPv4 address to browsers, sent as four decimal numbers: a pattern naming one
     * otherwise was stored and matched none of the referrers browsers send for it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"http://127.1:8080", "http://0x7f.0.0.1", "http://10.0.0.010/app", "http://1.2.3.256",
            "http://1.2.3.4.5", "https://example.1", "http://0177.0.0.1", "http://2130706433"})
    void anAddressNotWrittenAsBrowsersSendItIsInvalid(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
        assertThat(Referrers.addressNotAsBrowsersSendIt(pattern)).isEqualTo(pattern.replaceAll("^https?://|[:/].*$", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:8080", "http://10.0.0.8/app", "http://0.0.0.0", "http://255.255.255.255",
            "https://192.168.100.99", "https://example.com", "https://v1.example.com"})
    void anAddressWrittenAsBrowsersSendItIsValid(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isTrue();
        assertThat(Referrers.addressNotAsBrowsersSendIt(pattern)).isNull();
        String host = pattern.replaceAll("^https?://|[:/].*$", "");
        if (Referrers.isAddress(host)) {
            assertThat(Referrers.matches(List.of(pattern), pattern + (pattern.endsWith("/app") ? "/x" : "/"))).isTrue();
        }
    }

    /** Anyone can register a site under a public suffix, so a wildcard there admitted strangers' pages. */
    @ParameterizedTest
    @ValueSource(strings = {"https://*.co.uk", "https://*.github.io/app", "https://*.com.au:8443", "https://*.org"})
    void aWildcardMayNotSitOnAPublicSuffix(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
        assertThat(Referrers.wildcardTooWide(pattern)).isEqualTo(pattern.replaceAll("^https://\\*\\.|[:/].*$", ""));
        String registrable = pattern.replace("*.", "*.example.");
        assertThat(Referrers.isValidPattern(registrable)).isTrue();
        assertThat(Referrers.wildcardTooWide(registrable)).isNull();
        // one stored before the rule still matches as it did
        assertThat(Referrers.matches(List.of(pattern), pattern.replace("*.", "shop.").replace("/app", "/app/x")))
                .isTrue();
    }

    @Test
    void onlyWildcardsAreHeldToTheList() {
        assertThat(Referrers.isValidPattern("https://co.uk")).as("a literal host admits only itself").isTrue();
        assertThat(Referrers.wildcardTooWide("not a pattern")).isNull();
    }

    /** A browser reads a last label of {@code 0x} and hex digits as a number too: such a wildcard matched nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"https://*.example.0x1", "https://*.a.0X1F", "https://*.b.0x"})
    void aWildcardOverAHexNumberIsRefusedToo(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
        assertThat(Referrers.wildcardTooWide(pattern)).isEqualTo(pattern.substring("https://*.".length()).toLowerCase());
    }

    @Test
    void aLastLabelThatIsNoNumberIsNoAddress() {
        assertThat(Referrers.isAddress("example.0xg")).isFalse();
        assertThat(Referrers.isAddress("example.x0")).isFalse();
        assertThat(Referrers.isAddress("example.0a")).isFalse();
        assertThat(Referrers.isAddress("example.")).isFalse();
        assertThat(Referrers.isAddress("10.0.0.1")).isTrue();
        assertThat(Referrers.isAddress("example.0XfF")).isTrue();
    }

    /** {@code https://*.0.1} admitted {@code https://10.20.0.1} and every address ending so. */
    @ParameterizedTest
    @ValueSource(strings = {"https://*.0.1", "https://*.10.0.0", "http://*.168.0.1:8080/app"})
    void aWildcardMayNotSitOnTheEndOfAnAddress(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
        assertThat(Referrers.wildcardTooWide(pattern)).isEqualTo(pattern.replaceAll("^https?://\\*\\.|[:/].*$", ""));
        String host = pattern.replaceAll("^https?://\\*\\.|[:/].*$", "");
        assertThat(Referrers.isValidPattern(pattern.replace("*.", "192.".repeat(4 - host.split("\\.").length))))
                .as("an address, named in full").isTrue();
        assertThat(Referrers.wildcardTooWide("https://*.example.0a")).isNull();
        // one stored before the rule still matches as it did
        assertThat(Referrers.matches(List.of(pattern), pattern.replace("*.", "10.20."))).isTrue();
    }

    /** A referrer is bounded in characters, as ingest and verify bound it: 1,100 emoji in its query were refused. */
    @Test
    void aReferrerIsBoundedInCharactersNotUtf16Units() {
        String base = "https://ok.example.com/?q=";
        String emoji = "\uD83D\uDE00";
        String within = base + emoji.repeat(Referrers.MAX_LENGTH - base.length());
        assertThat(within.length()).isGreaterThan(Referrers.MAX_LENGTH);
        assertThat(Referrers.matches(List.of("https://ok.example.com"), within)).isTrue();
        assertThat(Referrers.matches(List.of("https://ok.example.com"), within + "x")).isFalse();
    }

    /** Every site under a top-level domain (or a single-label host) was one pattern away. */
    @ParameterizedTest
    @ValueSource(strings = {"https://*.com", "https://*.localhost:8080", "http://*.internal/app"})
    void aWildcardNeedsTwoLabelsAfterIt(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
        assertThat(Referrers.isValidPattern(pattern.replace("*.", "*.example."))).isTrue();
        // one stored before the rule still matches as it did
        assertThat(Referrers.matches(List.of(pattern), pattern.replace("*.", "a.b."))).isTrue();
    }

    /** A gateway passes a referrer on as it came: its dot segments put it under another path than they seem to. */
    @Test
    void dotSegmentsOfAReferrersPathAreResolvedBeforeItIsCompared() {
        List<String> docs = List.of("https://example.com/docs");
        assertThat(Referrers.matches(docs, "https://example.com/docs/../admin")).isFalse();
        assertThat(Referrers.matches(docs, "https://example.com/docs/./a/../b")).isTrue();
        assertThat(Referrers.matches(docs, "https://example.com/x/../docs/page")).isTrue();
        assertThat(Referrers.matches(docs, "https://example.com/docs/..")).isFalse();
        assertThat(Referrers.matches(docs, "https://example.com/../../docs")).isTrue();
        assertThat(Referrers.withoutDotSegments("/a/b/../c/./d/.")).isEqualTo("/a/c/d/");
        assertThat(Referrers.withoutDotSegments("/.well-known/x")).isEqualTo("/.well-known/x");
        // written %2e, as a browser reads it too
        assertThat(Referrers.matches(docs, "https://example.com/docs/%2e%2E/admin")).isFalse();
        assertThat(Referrers.matches(docs, "https://example.com/docs/a%2eb")).isTrue();
        assertThat(Referrers.withoutDotSegments(Referrers.withNormalEscapes("/a%20b/%2e/c"))).isEqualTo("/a%20b/c");
        // a pattern with them would match no referrer, which never has them any more
        assertThat(Referrers.isValidPattern("https://example.com/a/../b")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com/a/%2e")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com/a%20b/.hidden/")).isTrue();
    }

    /**
     * Escapes spelt differently are the same path (RFC 3986, 6.2.2): browsers send {@code %C3%A9} and a bare
     * {@code ~}, and a pattern written {@code /caf%c3%a9} or {@code /%7Efoo} matched no page.
     */
    @Test
    void percentEscapesAreComparedInOneSpelling() {
        List<String> cafe = List.of("https://x.test/caf%c3%a9");
        assertThat(Referrers.matches(cafe, "https://x.test/caf%C3%A9")).isTrue();
        assertThat(Referrers.matches(cafe, "https://x.test/caf%c3%A9/menu?q=1")).isTrue();
        assertThat(Referrers.matches(cafe, "https://x.test/caf%C3%A8")).isFalse();
        List<String> tilde = List.of("https://ix.test/%7Efoo");
        assertThat(Referrers.matches(tilde, "https://ix.test/~foo")).isTrue();
        assertThat(Referrers.matches(tilde, "https://ix.test/%7efoo/x")).isTrue();
        assertThat(Referrers.matches(List.of("https://ix.test/~foo"), "https://ix.test/%7Efoo")).isTrue();
        assertThat(Referrers.matches(List.of("https://ix.test/a%41"), "https://ix.test/aA")).isTrue();
        assertThat(Referrers.matches(List.of("https://ix.test/aA"), "https://ix.test/a%61")).isFalse();
        // a reserved character's escape is no such character: %2F is not a path separator
        List<String> slash = List.of("https://x.test/a%2fb");
        assertThat(Referrers.matches(slash, "https://x.test/a%2Fb")).isTrue();
        assertThat(Referrers.matches(slash, "https://x.test/a/b")).isFalse();
        assertThat(Referrers.withNormalEscapes("/a%2fb%20c%7e%zz%4")).isEqualTo("/a%2Fb%20c~%zz%4");
        String plain = "/no/escapes";
        assertThat(Referrers.withNormalEscapes(plain)).as("no copy without a %").isSameAs(plain);
        // an escaped dot is a dot to the dot-segment rules either way
        assertThat(Referrers.isValidPattern("https://x.test/a/%2E%2e")).isFalse();
        assertThat(Referrers.matches(List.of("https://x.test/docs"), "https://x.test/docs/%2E%2e/admin")).isFalse();
    }

    /** Browsers take an underscore in a host; a credential for such a page could not be made, nor its pages pass. */
    @Test
    void aHostMayHoldUnderscores() {
        assertThat(Referrers.isValidPattern("https://dev_portal.example.com")).isTrue();
        assertThat(Referrers.matches(List.of("https://dev_portal.example.com"), "https://DEV_portal.example.com/x"))
                .isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://a_b.example.com/")).isTrue();
        assertThat(Referrers.matches(List.of("https://dev_portal.example.com"), "https://devportal.example.com/"))
                .isFalse();
        assertThat(Referrers.wildcardTooWide("https://*.my_co.uk")).isNull();
        assertThat(Referrers.isValidPattern("https://-dev.example.com")).as("hyphens still not at an end").isFalse();
    }

    @Test
    void aPatternsCanonicalFormSaysWhatItAdmits() {
        assertThat(Referrers.canonical("HTTPS://Example.com:443/a/%7e/")).isEqualTo("https://example.com:443/a/~");
        assertThat(Referrers.canonical("https://*.example.com/*")).isEqualTo("https://*.example.com:443");
        assertThat(Referrers.canonical("http://example.com:8080")).isEqualTo("http://example.com:8080");
        assertThat(Referrers.canonical("example.com")).isNull();
        assertThat(Referrers.canonical(null)).isNull();
    }

    @Test
    void nullPatternIsInvalid() {
        assertThat(Referrers.isValidPattern(null)).isFalse();
    }

    @Test
    void wildcardMatchesTheBareDomainAndEverySubdomainAtAnyPath() {
        assertThat(Referrers.matches(WILDCARD, "https://example.com")).isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://example.com/some/page?q=1")).isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://maps.example.com/")).isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://a.b.example.com/x")).isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://MAPS.Example.COM")).isTrue();
    }

    @Test
    void wildcardDoesNotMatchLookalikeDomains() {
        assertThat(Referrers.matches(WILDCARD, "https://badexample.com")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "https://example.com.evil.net")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "https://example.org")).isFalse();
    }

    @Test
    void schemeAndPortMustMatch() {
        assertThat(Referrers.matches(WILDCARD, "http://example.com")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "https://example.com:8443")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "https://example.com:443/x")).isTrue();
        assertThat(Referrers.matches(List.of("http://localhost:8080"), "http://localhost:8080/app")).isTrue();
        assertThat(Referrers.matches(List.of("http://localhost:8080"), "http://localhost:8081/app")).isFalse();
    }

    @Test
    void exactHostMatchesOnlyItself() {
        List<String> exact = List.of("https://example.com");
        assertThat(Referrers.matches(exact, "https://example.com/x")).isTrue();
        assertThat(Referrers.matches(exact, "https://www.example.com/x")).isFalse();
    }

    @Test
    void patternPathIsAPrefixOnSegmentBoundaries() {
        List<String> withPath = List.of("https://example.com/maps");
        assertThat(Referrers.matches(withPath, "https://example.com/maps")).isTrue();
        assertThat(Referrers.matches(withPath, "https://example.com/maps/city")).isTrue();
        assertThat(Referrers.matches(withPath, "https://example.com/mapsx")).isFalse();
        assertThat(Referrers.matches(withPath, "https://example.com/")).isFalse();
    }

    @Test
    void noPatternsLetAnyReferrerOrNoneThrough() {
        assertThat(Referrers.matches(List.of(), null)).isTrue();
        assertThat(Referrers.matches(List.of(), "https://anything.net")).isTrue();
        assertThat(Referrers.matches(null, "garbage")).isTrue();
    }

    @Test
    void withPatternsAMissingOrMalformedReferrerIsRefused() {
        assertThat(Referrers.matches(WILDCARD, null)).isFalse();
        assertThat(Referrers.matches(WILDCARD, "")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "not a url")).isFalse();
        assertThat(Referrers.matches(WILDCARD, "https://ex ample.com")).isFalse();
    }

    /**
     * Browsers send {@code | [ ] ^ { }} unencoded in a referrer's query and {@code | [ ] ^} in its path; checked as a
     * URI, the whole string was refused, query included, though the query is never compared.
     */
    @Test
    void aReferrerIsTakenAsBrowsersSendIt() {
        List<String> site = List.of("https://example.com");
        assertThat(Referrers.matches(site, "https://example.com/search?q=a|b")).isTrue();
        assertThat(Referrers.matches(site, "https://example.com/p?x={1}&y=a^b")).isTrue();
        assertThat(Referrers.matches(site, "https://example.com/a|b/[x]")).isTrue();
        assertThat(Referrers.matches(List.of("https://example.com/maps"), "https://example.com/maps/a|b")).isTrue();
        assertThat(Referrers.matches(List.of("https://example.com/maps"), "https://example.com/other|maps")).isFalse();
        assertThat(Referrers.matches(site, "https://example.com/a b")).isFalse();
        assertThat(Referrers.matches(site, "https://example.com/a\\b")).isFalse();
        assertThat(Referrers.matches(site, "https://example.com/a\tb")).isFalse();
        assertThat(Referrers.matches(site, "https://example.com|evil.com/")).isFalse();
    }

    @Test
    void aPatternPathEndingInAStarMeansThatPathAndEverythingUnderIt() {
        assertThat(Referrers.isValidPattern("https://example.com/*")).isTrue();
        assertThat(Referrers.isValidPattern("https://*.example.com/app/*")).isTrue();
        assertThat(Referrers.matches(List.of("https://example.com/*"), "https://example.com/any/page")).isTrue();
        List<String> app = List.of("https://*.example.com/app/*");
        assertThat(Referrers.matches(app, "https://maps.example.com/app/x")).isTrue();
        assertThat(Referrers.matches(app, "https://example.com/app")).isTrue();
        assertThat(Referrers.matches(app, "https://example.com/other")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://example.com/a*b", "https://example.com/*/x", "https://example.com/**",
            "https://example.com/app*"})
    void aStarElsewhereInAPatternPathIsInvalid(String pattern) {
        assertThat(Referrers.isValidPattern(pattern)).isFalse();
    }

    @Test
    void aFullyQualifiedHostWithItsTrailingDotIsTheSameHost() {
        assertThat(Referrers.matches(List.of("https://example.com"), "https://example.com./page")).isTrue();
        assertThat(Referrers.matches(WILDCARD, "https://maps.example.com.:443/")).isTrue();
        assertThat(Referrers.matches(List.of("https://example.com"), "https://example.com../")).isFalse();
        assertThat(Referrers.matches(List.of("https://example.com"), "https://./")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com.")).as("patterns name hosts without it").isFalse();
    }

    @Test
    void anyOfSeveralPatternsIsEnough() {
        List<String> several = List.of("https://a.com", "https://*.b.com");
        assertThat(Referrers.matches(several, "https://x.b.com")).isTrue();
        assertThat(Referrers.matches(several, "https://a.com")).isTrue();
        assertThat(Referrers.matches(several, "https://c.com")).isFalse();
    }

    /** Ports are one to five digits, 1 to 65535, and nothing but digits (no sign, no letter). */
    @Test
    void aPortIsOneToFiveDigitsWithinTheirRange() {
        assertThat(Referrers.matches(List.of("https://example.com:10443"), "https://example.com:10443/x")).isTrue();
        assertThat(Referrers.matches(List.of("https://example.com:65535"), "https://example.com:65535/")).isTrue();
        assertThat(Referrers.matches(List.of("http://example.com:1"), "http://example.com:1/")).isTrue();
        assertThat(Referrers.matches(List.of("http://example.com:9000"), "http://example.com:9000")).isTrue();
        assertThat(Referrers.isValidPattern("https://example.com:65536")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com:0")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com:065535")).isFalse();
        assertThat(Referrers.isValidPattern("https://example.com:+443")).isFalse();
        assertThat(Referrers.matches(List.of("https://example.com"), "https://example.com:+443/")).isFalse();
        assertThat(Referrers.matches(List.of("https://example.com"), "https://example.com:44a/")).isFalse();
    }

    /** A host name is at most 253 characters. */
    @Test
    void aHostOfTheLongestNameIsStillAHost() {
        String label = "a".repeat(62);
        String longest = String.join(".", label, label, label, "b".repeat(60)) + ".com"; // 253 characters
        assertThat(longest).hasSize(253);
        assertThat(Referrers.isValidPattern("https://" + longest)).isTrue();
        assertThat(Referrers.matches(List.of("https://" + longest), "https://" + longest + "/")).isTrue();
        assertThat(Referrers.isValidPattern("https://a" + longest)).isFalse();
    }

    /** Every unreserved character's escape is decoded, at both ends of each range, and nothing else's. */
    @Test
    void everyUnreservedEscapeIsDecodedAndNoOther() {
        assertThat(Referrers.withNormalEscapes("/%61%7A%41%5A%30%39%2D%2E%5F%7E"))
                .isEqualTo("/azAZ09-._~");
        assertThat(Referrers.withNormalEscapes("/%60%7b%40%5b%2f%3a%2c%00%0a"))
                .isEqualTo("/%60%7B%40%5B%2F%3A%2C%00%0A");
        assertThat(Referrers.matches(List.of("https://x.test/v%30"), "https://x.test/v0")).isTrue();
        assertThat(Referrers.matches(List.of("https://x.test/a%0a"), "https://x.test/a%0A")).isTrue();
    }

    /** A last label that is all digits is an address, whichever digits: a 0 and a 9 among them too. */
    @Test
    void aWildcardOverAnyNumericLastLabelIsTooWide() {
        assertThat(Referrers.wildcardTooWide("https://*.1.90")).isEqualTo("1.90");
        assertThat(Referrers.wildcardTooWide("https://*.1.0")).isEqualTo("1.0");
        assertThat(Referrers.wildcardTooWide("https://*.1.9")).isEqualTo("1.9");
        assertThat(Referrers.isAddress("example.09")).isTrue();
    }
}
