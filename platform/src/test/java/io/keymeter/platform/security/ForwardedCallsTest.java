package io.keymeter.platform.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.platform.config.KeymeterProperties;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * A read one instance forwards to another is signed for the caller's account, and the caller's token is not sent:
 * before, forwarded calls carried the caller's bearer token to whatever address Kafka Streams' metadata named.
 */
class ForwardedCallsTest {

    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    private static final URI OWNER = URI.create("http://owner:8080/v1/usage?cycle=2026-12&format=csv");

    @TempDir
    Path dir;

    @Test
    void aForwardedCallCarriesASignatureInsteadOfTheTokenAndTheOwnerTakesItAsTheSameAccount() throws Exception {
        AccessTokens tokens = tokens();
        String forwarded = forwardedBy(tokens, "Bearer kmacct_acme_old", OWNER);

        assertThat(forwarded).startsWith("Keymeter-Forwarded account=acme, issued=" + NOW.toEpochMilli() + ", signature=")
                .doesNotContain("kmacct_acme_old");
        assertThat(accountAt(tokens, NOW, forwarded, "GET", "/v1/usage", "cycle=2026-12&format=csv")).isEqualTo("acme");
        // signed with the key of the token the caller used: either of an account's two tokens (one being replaced)
        assertThat(accountAt(tokens, NOW, forwardedBy(tokens, "Bearer kmacct_acme_new", OWNER), "GET", "/v1/usage",
                "cycle=2026-12&format=csv")).isEqualTo("acme");
        // a forwarded call may be forwarded again, signed with the same key
        assertThat(accountAt(tokens, NOW, forwardedBy(tokens, forwarded, URI.create("http://third/v1/statements")),
                "GET", "/v1/statements", null)).isEqualTo("acme");
    }

    @Test
    void aSignatureIsTakenForNoOtherCallAccountOrTimeAndNotOnGatewayPaths() throws Exception {
        AccessTokens tokens = tokens();
        String forwarded = forwardedBy(tokens, "Bearer kmacct_acme_old", OWNER);

        assertThat(accountAt(tokens, NOW, forwarded, "GET", "/v1/usage", "cycle=2026-11&format=csv")).isNull();
        assertThat(accountAt(tokens, NOW, forwarded, "GET", "/v1/statements", "cycle=2026-12&format=csv")).isNull();
        assertThat(accountAt(tokens, NOW, forwarded, "DELETE", "/v1/usage", "cycle=2026-12&format=csv")).isNull();
        assertThat(accountAt(tokens, NOW, forwarded.replace("account=acme", "account=globex"), "GET", "/v1/usage",
                "cycle=2026-12&format=csv")).isNull();
        String issued = "issued=" + NOW.toEpochMilli();
        assertThat(accountAt(tokens, NOW, forwarded.replace(issued, "issued=" + (NOW.toEpochMilli() + 1)), "GET",
                "/v1/usage", "cycle=2026-12&format=csv")).isNull();
        assertThat(accountAt(tokens, NOW.plus(ForwardedCalls.VALID_FOR).plusMillis(1), forwarded, "GET", "/v1/usage",
                "cycle=2026-12&format=csv")).as("replayed later").isNull();
        assertThat(accountAt(tokens, NOW.minus(ForwardedCalls.VALID_FOR).minusMillis(1), forwarded, "GET", "/v1/usage",
                "cycle=2026-12&format=csv")).as("from a clock ahead").isNull();
        assertThat(accountAt(tokens, NOW.plus(ForwardedCalls.VALID_FOR), forwarded, "GET", "/v1/usage",
                "cycle=2026-12&format=csv")).as("within the window").isEqualTo("acme");
        assertThat(accountAt(tokens, NOW, forwarded, "POST", "/v1/requests", null)).as("a gateway path").isNull();
        assertThat(accountAt(tokens, NOW, forwardedBy(tokens, "Bearer kmacct_acme_old", URI.create("http://o/v1/credentials")),
                "POST", "/v1/credentials", null)).as("signed for a POST: only reads are forwarded").isNull();
        assertThat(filter(tokens, NOW, forwarded, "GET", "/v1/usage", "cycle=2026-12&format=csv", new AtomicReference<>(),
                false).getStatus()).as("without X-Keymeter-Forwarded").isEqualTo(401);
        for (String garbage : new String[] {"Keymeter-Forwarded", "Keymeter-Forwarded account=acme",
                "Keymeter-Forwarded account=acme, issued=x, signature=AAAA", "Keymeter-Forwarded account=acme, "
                + issued + ", signature=%%%", forwarded.substring(0, forwarded.length() - 2)}) {
            assertThat(accountAt(tokens, NOW, garbage, "GET", "/v1/usage", "cycle=2026-12&format=csv")).as(garbage).isNull();
        }
    }

    @Test
    void aRefusedSignatureSaysWhatInstancesMustShare() throws Exception {
        MockHttpServletResponse response = filter(tokens(), NOW, "Keymeter-Forwarded account=acme, issued=1, signature=AAAA",
                "GET", "/v1/usage", null, new AtomicReference<>());

        assertThat(response.getStatus()).isEqualTo(401);
        assertThat(response.getContentAsString()).contains("the same account tokens").contains("clocks in step");
    }

    /** The Authorization value an instance sends when the call authenticated by {@code authorization} is forwarded. */
    private String forwardedBy(AccessTokens tokens, String authorization, URI to) throws Exception {
        AtomicReference<HttpServletRequest> seen = new AtomicReference<>();
        MockHttpServletResponse response = filter(tokens, NOW, authorization, "GET", "/v1/usage",
                "cycle=2026-12&format=csv", seen);
        assertThat(response.getStatus()).as(response.getContentAsString()).isEqualTo(200);
        return new ForwardedCalls(tokens, Clock.fixed(NOW, ZoneOffset.UTC)).authorization(seen.get(), to);
    }

    /** The account a call with this Authorization is taken as at {@code now}, or null when it is refused. */
    private static String accountAt(AccessTokens tokens, Instant now, String authorization, String method, String path,
                                    String query) throws Exception {
        AtomicReference<HttpServletRequest> seen = new AtomicReference<>();
        filter(tokens, now, authorization, method, path, query, seen);
        return seen.get() == null ? null : ((Account) seen.get().getAttribute(Account.ATTRIBUTE)).id();
    }

    private static MockHttpServletResponse filter(AccessTokens tokens, Instant now, String authorization, String method,
                                                  String path, String query, AtomicReference<HttpServletRequest> seen)
            throws Exception {
        return filter(tokens, now, authorization, method, path, query, seen, true);
    }

    private static MockHttpServletResponse filter(AccessTokens tokens, Instant now, String authorization, String method,
                                                  String path, String query, AtomicReference<HttpServletRequest> seen,
                                                  boolean marked) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest(method, path);
        request.setServletPath(path);
        request.setQueryString(query);
        request.addHeader("Authorization", authorization);
        if (marked) {
            request.addHeader(BearerTokenFilter.FORWARDED, "1");
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        BearerTokenFilter filter = new BearerTokenFilter(tokens, new ForwardedCalls(tokens, Clock.fixed(now, ZoneOffset.UTC)));
        filter.doFilter(request, response, new MockFilterChain() {
            @Override
            public void doFilter(jakarta.servlet.ServletRequest req, jakarta.servlet.ServletResponse res) {
                seen.set((HttpServletRequest) req);
            }
        });
        return response;
    }

    private AccessTokens tokens() {
        Map<String, String> values = new HashMap<>();
        values.put("keymeter.data-dir", dir.toString());
        values.put("keymeter.accounts[0].id", "acme");
        values.put("keymeter.accounts[0].token", "kmacct_acme_old");
        values.put("keymeter.accounts[1].id", "acme");
        values.put("keymeter.accounts[1].token", "kmacct_acme_new");
        values.put("keymeter.accounts[2].id", "globex");
        values.put("keymeter.accounts[2].token", "kmacct_globex");
        values.put("keymeter.gateway-tokens[0]", "kmgw_gateway");
        return new AccessTokens(new Binder(new MapConfigurationPropertySource(values))
                .bindOrCreate("keymeter", KeymeterProperties.class));
    }

    /** Whatever answers at a member's address writes what is logged of its refusal: one line, cut short. */
    @Test
    void anOwnersRefusalIsLoggedAsOneShortLine() {
        String forged = "{\"title\":\"Unauthorized\"}\r\n2026-12-04 ERROR forged line\u2028" + "x".repeat(10_000);
        String logged = ForwardedCalls.forLog(forged);
        assertThat(logged).doesNotContain("\r").doesNotContain("\n").doesNotContain("\u2028")
                .startsWith("{\"title\":\"Unauthorized\"}\\u000d\\u000a2026-12-04 ERROR forged line\\u2028x")
                .endsWith("… (" + forged.length() + " chars)");
        assertThat(logged.length()).isLessThan(ForwardedCalls.LOGGED_ANSWER_CHARS + 60);
        assertThat(ForwardedCalls.forLog("short")).isEqualTo("short");
        assertThat(ForwardedCalls.forLog("ok \u202egnp.exe")).as("a bidi override").isEqualTo("ok \\u202egnp.exe");
    }

    /** An owner's address this instance cannot reach failed every call for its data with no word in the log. */
    @Test
    void anOwnerThatDoesNotAnswerIsLoggedOnceAMinutePerOwner() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(ForwardedCalls.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            String suffix = java.util.UUID.randomUUID().toString().substring(0, 8);
            HostInfo gone = new HostInfo("gone-" + suffix + ".invalid", 8096);
            for (int i = 0; i < 3; i++) {
                ForwardedCalls.ownerDidNotAnswer(gone, new java.net.ConnectException("refused"));
            }
            ForwardedCalls.ownerDidNotAnswer(new HostInfo("other-" + suffix + ".invalid", 8096),
                    new java.net.ConnectException("refused"));
            assertThat(logged.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .filteredOn(m -> m.contains(suffix)).hasSize(2)
                    .first().asString().startsWith("gone-" + suffix + ".invalid:8096, which Kafka Streams names")
                    .contains("java.net.ConnectException: refused", "keymeter.credentials.advertised-host");
        } finally {
            logger.detachAppender(logged);
        }
    }
}
