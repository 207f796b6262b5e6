package io.keymeter.platform.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generated tokens are kept in files only their owner can read. */
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
}
