package io.keymeter.platform.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.platform.config.KeymeterProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.junit.jupiter.api.io.TempDir;

/** Generated tokens are kept in files only their owner can read; no token is given twice. */
@ExtendWith(OutputCaptureExtension.class)
class AccessTokensTest {

    @TempDir
    Path dir;

    @Test
    void aNewTokenFileIsOwnerOnlyAndKeptOnTheNextStart() throws Exception {
        Path file = dir.resolve("data/gateway-token");
        String token = AccessTokens.readOrCreate(file, "kmgw_");

        assertThat(token).startsWith("kmgw_");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(AccessTokens.readOrCreate(file, "kmgw_")).isEqualTo(token);
    }

    /**
     * Processes sharing a data dir (ingest replicas, each its own token check) starting at once end with one token:
     * one saw the file another had just created, still empty, wrote a token of its own over it, and the other kept
     * the token it had made, so calls to one of them were refused; or one failed on the file the other created.
     */
    @Test
    void startsAtOnceOnOneDataDirKeepOneToken() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 200; round++) {
                Path file = dir.resolve("round-" + round + "/gateway-token");
                CyclicBarrier together = new CyclicBarrier(4);
                List<Future<String>> tokens = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    tokens.add(threads.submit(() -> {
                        together.await();
                        return AccessTokens.readOrCreate(file, "kmgw_");
                    }));
                }
                Set<String> distinct = new HashSet<>();
                for (Future<String> token : tokens) {
                    distinct.add(token.get(30, TimeUnit.SECONDS));
                }
                assertThat(distinct).as("round %d", round).hasSize(1);
                assertThat(Files.readString(file).trim()).isEqualTo(distinct.iterator().next());
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void anEmptyKeptTokenFileGetsANewToken() throws Exception {
        Path file = dir.resolve("demo-token");
        Files.writeString(file, "\n", StandardCharsets.UTF_8);

        // before, the empty string was the account's token: nobody could sign in, and nothing said why
        String token = AccessTokens.readOrCreate(file, "kmacct_");
        assertThat(token).startsWith("kmacct_").hasSizeGreaterThan("kmacct_".length());
        assertThat(AccessTokens.readOrCreate(file, "kmacct_")).isEqualTo(token);
    }

    @Test
    void aKeptTokenFileReadableByOthersIsMadeOwnerOnly() throws Exception {
        Path file = dir.resolve("demo-token");
        Files.writeString(file, "kmacct_kept\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        // before, a kept file was read as it was: readable by every user of the machine
        assertThat(AccessTokens.readOrCreate(file, "kmacct_")).isEqualTo("kmacct_kept");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    /**
     * A token beyond printable ASCII stops start-up, named, not printed: Jetty reads a header as ISO-8859-1 while
     * clients send UTF-8, so a token with {@code ü} started and was refused on every call, with nothing saying why.
     */
    @Test
    void aTokenBeyondPrintableAsciiStopsStartUpNamingItsProperty() {
        for (String token : new String[] {"gwtoken-\u00fc-0123456789abcdef0123", "acct-\u20ac-0123456789abcdef0123",
                "acct-tab\there-0123456789abcdef0123", "acct-del\u007f-0123456789abcdef0123"}) {
            assertThatThrownBy(() -> new AccessTokens(properties("keymeter.gateway-tokens[0]", token)))
                    .hasMessageContaining("keymeter.gateway-tokens[0] holds a character that is not printable ASCII")
                    .hasMessageNotContaining(token);
            assertThatThrownBy(() -> new AccessTokens(properties("keymeter.accounts[0].id", "acme",
                    "keymeter.accounts[0].token", token)))
                    .hasMessageContaining("keymeter.accounts[0].token holds a character that is not printable ASCII");
        }
        // printable ASCII, an inner space included, still starts
        new AccessTokens(properties("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token",
                "acct token ~!@#$%^&*()_+{}|:<>?-0123456789", "keymeter.gateway-tokens[0]", "gw-0123456789abcdef0123456789"));
    }

    /**
     * Every token differs from every other, generated ones included, and the refusal names where the two come from,
     * not the token. Before, only configured tokens were compared: an account given the gateway token Keymeter had
     * generated started, and that token signed in as the account and as a gateway.
     */
    @Test
    void aTokenGivenTwiceStopsStartUpNamingBothPlaces() throws Exception {
        Files.writeString(dir.resolve("gateway-token"), "kmgw_generated\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> new AccessTokens(properties("keymeter.accounts[0].id", "acme",
                "keymeter.accounts[0].token", "kmgw_generated")))
                .hasMessageContaining("one token is given twice, as keymeter.accounts[0].token and as the token kept in "
                        + dir.resolve("gateway-token"))
                .hasMessageNotContaining("kmgw_generated");
        assertThatThrownBy(() -> new AccessTokens(properties("keymeter.accounts[0].id", "acme",
                "keymeter.accounts[0].token", "same", "keymeter.accounts[1].id", "globex",
                "keymeter.accounts[1].token", "same")))
                .hasMessageContaining("as keymeter.accounts[0].token and as keymeter.accounts[1].token");
        assertThatThrownBy(() -> new AccessTokens(properties("keymeter.accounts[0].id", "acme",
                "keymeter.accounts[0].token", "same", "keymeter.gateway-tokens[0]", "same")))
                .hasMessageContaining("as keymeter.accounts[0].token and as keymeter.gateway-tokens[0]");

        AccessTokens distinct = new AccessTokens(properties("keymeter.accounts[0].id", "acme",
                "keymeter.accounts[0].token", "a", "keymeter.gateway-tokens[0]", "g"));
        assertThat(distinct.accountOfDigest(Tokens.digest("a"))).hasValueSatisfying(a -> assertThat(a.id()).isEqualTo("acme"));
        assertThat(distinct.isGateway("g")).isTrue();
    }

    /** A configured token too short to withstand guessing is warned of by its property and length, never printed. */
    @Test
    void aShortConfiguredTokenIsWarnedOfWithoutPrintingIt(CapturedOutput output) {
        new AccessTokens(properties("keymeter.accounts[0].id", "acme", "keymeter.accounts[0].token", "acme-secret-9",
                "keymeter.gateway-tokens[0]", "gw-0123456789abcdef0123456789abcdef"));

        assertThat(output.getOut() + output.getErr())
                .contains("keymeter.accounts[0].token is 13 characters long: a token this short can be guessed")
                .doesNotContain("keymeter.gateway-tokens[0] is").doesNotContain("acme-secret-9");
    }

    private KeymeterProperties properties(String... pairs) {
        Map<String, String> values = new HashMap<>();
        values.put("keymeter.data-dir", dir.toString());
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("keymeter", KeymeterProperties.class);
    }
}
