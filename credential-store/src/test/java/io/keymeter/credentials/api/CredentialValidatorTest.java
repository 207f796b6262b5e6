package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.web.ApiProblem;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialValidatorTest {

    private static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");
    private static final KeymeterProperties.Keys KEYS = new KeymeterProperties.Keys(null, null, null, null);

    @Test
    void validCredentialPassesAndListsAreDeduplicatedInOrder() {
        CredentialValidator v = new CredentialValidator();
        v.name("Store locator");
        assertThat(v.privileges(List.of("premium:user:places", "premium:user:basemaps", "premium:user:places")))
                .containsExactly("premium:user:places", "premium:user:basemaps");
        assertThat(v.itemAccess(List.of("a", "b_1", "a"), false)).containsExactly("a", "b_1");
        assertThat(v.referrers(null, false)).isEmpty();
        v.expiresAt(NOW.plus(Duration.ofDays(30)), true, NOW, KEYS);
        assertThatCode(v::throwIfInvalid).doesNotThrowAnyException();
    }

    /** Case, a default port, a trailing slash or {@code /*} spell the same pattern: it is kept once, as first given. */
    @Test
    void referrerPatternsThatAdmitTheSamePagesAreKeptOnce() {
        CredentialValidator v = new CredentialValidator();
        assertThat(v.referrers(List.of("https://example.com/app", "HTTPS://Example.COM:443/app/", "https://*.example.com",
                "https://*.EXAMPLE.com/*", "https://example.com/app/*", "http://example.com/app", "https://example.com"),
                false))
                .containsExactly("https://example.com/app", "https://*.example.com", "http://example.com/app",
                        "https://example.com");
        assertThatCode(v::throwIfInvalid).doesNotThrowAnyException();
    }

    @Test
    void everyBrokenRuleIsReportedWithItsField() {
        CredentialValidator v = new CredentialValidator();
        v.name("x".repeat(129));
        v.privileges(Arrays.asList("premium:user:basemaps", null, "nope"));
        v.itemAccess(List.of("ok", "not ok"), false);
        v.referrers(List.of("https://*.example.com", "*.example.com"), false);
        v.slot(3);
        v.expiresAt(NOW.plus(Duration.ofHours(23)), true, NOW, KEYS);

        ApiProblem problem = catchThrowableOfType(ApiProblem.class, v::throwIfInvalid);

        assertThat(problem.status()).isEqualTo(400);
        assertThat(problem.errors()).extracting(ApiProblem.FieldError::field).containsExactly(
                "name", "privileges[1]", "privileges[2]", "itemAccess[1]", "referrers[1]", "slot", "expiresAt");
    }

    /** {@code https://*.co.uk} was taken: a key whose referrers anyone can meet by registering a site there. */
    @Test
    void aWildcardOverAPublicSuffixIsRefusedWithTheSuffixNamed() {
        CredentialValidator v = new CredentialValidator();
        v.referrers(List.of("https://*.bbc.co.uk", "https://*.co.uk", "https://*.github.io/app", "https://example.com"),
                false);

        ApiProblem problem = catchThrowableOfType(ApiProblem.class, v::throwIfInvalid);

        assertThat(problem.errors()).extracting(ApiProblem.FieldError::field)
                .containsExactly("referrers[1]", "referrers[2]");
        assertThat(problem.errors().get(0).message())
                .isEqualTo("'*.co.uk' would admit sites anyone can register under co.uk: name a domain of your own");
        CredentialValidator single = new CredentialValidator();
        single.referrers(List.of("http://*.localhost:8080"), false);
        assertThat(catchThrowableOfType(ApiProblem.class, single::throwIfInvalid).errors().get(0).message())
                .isEqualTo("'*.localhost' would admit every host under localhost: name a domain under it");
        CredentialValidator address = new CredentialValidator();
        address.referrers(List.of("https://*.0.1"), false);
        assertThat(catchThrowableOfType(ApiProblem.class, address::throwIfInvalid).errors().get(0).message())
                .isEqualTo("'*.0.1' ends in a number, as an IP address does: a wildcard there admits addresses, not "
                        + "subdomains; name each host, without a wildcard");
    }

    /** An IPv4 address written otherwise than browsers send it matched no referrer: refused, saying how to write it. */
    @Test
    void anAddressNotWrittenAsBrowsersSendItIsRefusedSayingHow() {
        CredentialValidator v = new CredentialValidator();
        v.referrers(List.of("http://127.0.0.1:8080", "http://127.1:8080"), false);

        ApiProblem problem = catchThrowableOfType(ApiProblem.class, v::throwIfInvalid);

        assertThat(problem.errors()).extracting(ApiProblem.FieldError::field).containsExactly("referrers[1]");
        assertThat(problem.errors().get(0).message()).startsWith("'127.1' ends in a number, so browsers read it as an"
                + " IPv4 address and send it as four decimal numbers").endsWith("write it so, or it matches no referrer");
    }

    /**
     * A NUL or a lone surrogate was taken, and the surrogate read back as "?" in the usage CSV; a bidirectional
     * override reversed what followed it wherever the name was shown ("Acme \u202Egnillib" reads "Acme billing").
     */
    @Test
    void aNameWithControlCharactersOrHalfASurrogatePairIsRefused() {
        for (String name : List.of("a\u0000b", "esc\u001b[31m", "lone \ud800 surrogate", "low \udc00 first", "end \ud83d",
                "del\u007f", "c1\u0085", "Acme \u202egnillib", "embed \u202a", "isolate \u2066x\u2069",
                "pair then half \ud83d\ude00\ude00", "left \u2066isolate", "pop \u2069isolate")) {
            CredentialValidator v = new CredentialValidator();
            v.name(name);
            assertThat(catchThrowableOfType(ApiProblem.class, v::throwIfInvalid).errors())
                    .as(name).extracting(ApiProblem.FieldError::field).containsExactly("name");
        }
        for (String name : List.of("Acme, \"West\" – Zürich\nsecond line", "tab\there", "emoji \ud83d\ude00", "日本語",
                "עברית and English", "mark \u200f",
                "next to the ranges \u2029\u202f\u2065\u206a")) {
            CredentialValidator v = new CredentialValidator();
            v.name(name);
            assertThatCode(v::throwIfInvalid).as(name).doesNotThrowAnyException();
        }
    }

    @Test
    void limitsOnListSizesAndLifetimes() {
        CredentialValidator v = new CredentialValidator();
        v.privileges(List.of());
        v.itemAccess(Collections.nCopies(1001, "i"), false);
        v.referrers(Collections.nCopies(101, "https://a.com"), false);
        v.expiresAt(NOW.plus(Duration.ofDays(367)), false, NOW, KEYS);
        v.expiresAt(null, true, NOW, KEYS);
        assertThat(v.pathSlot("0")).isZero();

        ApiProblem problem = catchThrowableOfType(ApiProblem.class, v::throwIfInvalid);

        assertThat(problem.errors()).extracting(ApiProblem.FieldError::field).containsExactly(
                "privileges", "itemAccess", "referrers", "expiresAt", "expiresAt", "slot");
        // the limits as their properties are written (P366D), not as Java prints the Duration (PT8784H)
        assertThat(problem.errors().get(3).message())
                .isEqualTo("must be between P1D and P366D from now (keymeter.keys.min-lifetime, max-lifetime)");
    }

    /** A list of millions of bad privileges made one field error each (and one answer of them all). */
    @Test
    void tooManyPrivilegesIsOneError() {
        CredentialValidator v = new CredentialValidator();
        v.privileges(Collections.nCopies(101, "x"));

        ApiProblem problem = catchThrowableOfType(ApiProblem.class, v::throwIfInvalid);

        assertThat(problem.errors()).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("privileges");
            assertThat(e.message()).isEqualTo("at most 100 privileges");
        });
    }

    @Test
    void exactlyTheLimitsAreAllowed() {
        CredentialValidator v = new CredentialValidator();
        v.name("n".repeat(128));
        v.name("\uD83D\uDDFA".repeat(128)); // 128 characters (a map emoji each), 256 UTF-16 units
        v.privileges(List.of("portal:user:content"));
        v.privileges(Collections.nCopies(100, "portal:user:content"));
        v.itemAccess(Collections.nCopies(1000, "i".repeat(64)), true);
        v.referrers(Collections.nCopies(100, "https://a.com"), true);
        v.expiresAt(NOW.plus(Duration.ofDays(1)), true, NOW, KEYS);
        v.expiresAt(NOW.plus(Duration.ofDays(366)), true, NOW, KEYS);
        assertThat(v.pathSlot("2")).isEqualTo(2);
        assertThatCode(v::throwIfInvalid).doesNotThrowAnyException();
    }

    @Test
    void theValidatedNameIsTheOneGiven() {
        CredentialValidator v = new CredentialValidator();
        assertThat(v.name("Store locator")).isEqualTo("Store locator");
    }

    /** A PUT of item access must name the list, even empty; a create may leave it out. */
    @Test
    void itemAccessIsRequiredOnlyWhereTheCallerSaysSo() {
        CredentialValidator put = new CredentialValidator();
        assertThat(put.itemAccess(null, true)).isEmpty();
        assertThat(catchThrowableOfType(ApiProblem.class, put::throwIfInvalid).errors())
                .extracting(ApiProblem.FieldError::field).containsExactly("itemAccess");
        CredentialValidator create = new CredentialValidator();
        assertThat(create.itemAccess(null, false)).isEmpty();
        assertThatCode(create::throwIfInvalid).doesNotThrowAnyException();
    }
}
