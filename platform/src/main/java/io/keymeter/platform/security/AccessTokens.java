package io.keymeter.platform.security;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.config.DataDirLock;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.OwnerOnly;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.DependsOn;
import org.springframework.stereotype.Component;

/**
 * The account and gateway bearer tokens. Configured tokens come from {@code keymeter.accounts} and
 * {@code keymeter.gateway-tokens}; with none configured, account {@code demo} and one gateway token are created with
 * random tokens kept in {@code <data-dir>/demo-token} and {@code <data-dir>/gateway-token} (reused on restart).
 */
@Component
@DependsOn(DataDirLock.BEAN) // token files live in the data dir
public class AccessTokens {

    public static final String DEMO_ACCOUNT = "demo";
    private static final Logger log = LoggerFactory.getLogger(AccessTokens.class);
    /** 128 bits as hex; the generated tokens carry 256. */
    static final int MIN_TOKEN_LENGTH = 32;

    private final List<Entry> accounts = new ArrayList<>();
    private final List<byte[]> gateways = new ArrayList<>();
    private final List<Path> tokenFiles = new ArrayList<>();

    public AccessTokens(KeymeterProperties properties) {
        // where each token comes from, in the order of accounts then gateways: to name a token given twice
        List<String> sources = new ArrayList<>();
        if (properties.accounts().isEmpty()) {
            Path file = properties.dataDir().resolve("demo-token");
            accounts.add(new Entry(DEMO_ACCOUNT, Tokens.digest(readOrCreate(file, "kmacct_"))));
            tokenFiles.add(file);
            sources.add("the token kept in " + file);
        } else {
            for (int i = 0; i < properties.accounts().size(); i++) {
                KeymeterProperties.Account a = properties.accounts().get(i);
                requireTrimmed(a.token(), "keymeter.accounts[" + i + "].token");
                requirePrintableAscii(a.token(), "keymeter.accounts[" + i + "].token");
                warnIfShort(a.token(), "keymeter.accounts[" + i + "].token");
                accounts.add(new Entry(a.id(), Tokens.digest(a.token())));
                sources.add("keymeter.accounts[" + i + "].token");
            }
        }
        if (properties.gatewayTokens().isEmpty()) {
            Path file = properties.dataDir().resolve("gateway-token");
            gateways.add(Tokens.digest(readOrCreate(file, "kmgw_")));
            tokenFiles.add(file);
            sources.add("the token kept in " + file);
        } else {
            for (int i = 0; i < properties.gatewayTokens().size(); i++) {
                requireTrimmed(properties.gatewayTokens().get(i), "keymeter.gateway-tokens[" + i + "]");
                requirePrintableAscii(properties.gatewayTokens().get(i), "keymeter.gateway-tokens[" + i + "]");
                warnIfShort(properties.gatewayTokens().get(i), "keymeter.gateway-tokens[" + i + "]");
                gateways.add(Tokens.digest(properties.gatewayTokens().get(i)));
                sources.add("keymeter.gateway-tokens[" + i + "]");
            }
        }
        requireDistinct(sources);
    }

    /** The ids of the accounts that have a token here: the configured ones, or the embedded default's demo. */
    public Set<String> accountIds() {
        return accounts.stream().map(Entry::accountId).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * A presented token is trimmed, so one with a space or a line break at an end (a secret file's last line) was
     * refused on every call, with nothing saying why. Checked here, not by the properties' validation: Spring Boot's
     * report of a refused property, and the warning logged with it, print the value, the token.
     */
    private static void requireTrimmed(String token, String source) {
        if (!token.equals(token.strip()) || !token.equals(token.trim())) { // the filter trims: control characters too
            throw new StartupRefusedException(source + " begins or ends with whitespace or a control character (a"
                    + " secret file's line break?),"
                    + " and a presented token is trimmed: every call with it would be refused.",
                    "Remove the whitespace from " + source + ".");
        }
    }

    /**
     * A header's characters beyond ASCII reach the server as bytes it reads as ISO-8859-1, while clients send them as
     * UTF-8 (curl, the JDK, a shell's environment): a token with {@code ü} was refused on every call as sent, and one
     * with {@code €} could match no call at all, with nothing saying why. Named, never printed, as above.
     */
    private static void requirePrintableAscii(String token, String source) {
        if (!token.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw new StartupRefusedException(source + " holds a character that is not printable ASCII, which HTTP"
                    + " clients and servers encode differently in a header: every call with it would be refused.",
                    "Give " + source + " only printable ASCII characters, such as the output of openssl rand -hex 24.");
        }
    }

    /**
     * A short configured token is warned of, naming its property and length, never the token: nothing limits how
     * often a wrong token may be tried, so a token of a few characters can be guessed. A warning, not a refusal,
     * so that a short token chosen for a trial still starts.
     */
    private static void warnIfShort(String token, String source) {
        if (token.length() < MIN_TOKEN_LENGTH) {
            log.warn("{} is {} characters long: a token this short can be guessed (nothing limits how often a wrong one"
                    + " is tried); give it {} or more random characters, such as openssl rand -hex 24",
                    source, token.length(), MIN_TOKEN_LENGTH);
        }
    }

    /**
     * Every account token and gateway token differs from every other, generated ones included: with one token twice,
     * the last account holding it won (a tenant signed in as another), or a gateway token managed an account's
     * credentials. (Checked on the configured tokens alone before: an account given the generated gateway token
     * started.) The message names where the two come from, never the token.
     */
    private void requireDistinct(List<String> sources) {
        List<byte[]> digests = new ArrayList<>();
        accounts.forEach(entry -> digests.add(entry.digest()));
        digests.addAll(gateways);
        for (int i = 0; i < digests.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (Arrays.equals(digests.get(i), digests.get(j))) {
                    throw new StartupRefusedException("Account and gateway tokens must all differ: one token is given "
                            + "twice, as " + sources.get(j) + " and as " + sources.get(i) + ".",
                            "Give one of them another token.");
                }
            }
        }
    }

    /**
     * The account whose token has this digest (the filter keeps the digest to sign forwards with). Every entry is
     * compared, so the time taken does not tell which matched.
     */
    Optional<Account> accountOfDigest(byte[] presented) {
        Account found = null;
        for (Entry entry : accounts) {
            if (Tokens.matches(entry.digest(), presented)) {
                found = new Account(entry.accountId());
            }
        }
        return Optional.ofNullable(found);
    }

    /** The digests of every token of this account (two while a token is replaced), for {@link ForwardedCalls}. */
    List<byte[]> accountDigests(String accountId) {
        return accounts.stream().filter(entry -> entry.accountId().equals(accountId)).map(Entry::digest).toList();
    }

    public boolean isGateway(String token) {
        byte[] presented = Tokens.digest(token);
        boolean found = false;
        for (byte[] digest : gateways) {
            found |= Tokens.matches(digest, presented);
        }
        return found;
    }

    /** Files holding generated tokens, for the start-up message. */
    public List<Path> generatedTokenFiles() {
        return List.copyOf(tokenFiles);
    }

    /**
     * The token kept in {@code file}, created owner-only (rw-------) from the start: it used to be written with the
     * default permissions (world-readable under the usual umask) and restricted afterwards, so another user could
     * read it in between. A kept file readable by others is made owner-only, with a warning. A new file appears
     * whole: processes sharing a data dir and starting at once all keep the one token that got there first.
     */
    public static String readOrCreate(Path file, String prefix) {
        try {
            if (Files.exists(file)) {
                OwnerOnly.restrictFile(file).ifPresent(was ->
                        log.warn("Token file {} was {}; made owner-only (rw-------)", file, was));
                String kept = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!kept.isEmpty()) {
                    return kept;
                }
                // an earlier version's start stopped between creating the file and writing it: an empty token
                // nobody can send
                log.warn("{} was empty (a start stopped while writing it?): a new token is kept in it", file);
                String token = Tokens.newToken(prefix);
                Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
                return token;
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            return createWhole(file, Tokens.newToken(prefix));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep a token in " + file, e);
        }
    }

    /**
     * Writes the token to a file of its own beside {@code file}, then links it in under the name, which fails when the
     * name exists: another process sharing the data dir was first, and its token, whole, is the one kept. (Created
     * empty and written after, another start could read the file empty in between and write its own over it, and
     * the two kept different tokens.)
     */
    private static String createWhole(Path file, String token) throws IOException {
        Path whole = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".new");
        OwnerOnly.createFile(whole);
        try {
            Files.writeString(whole, token + "\n", StandardCharsets.UTF_8);
            try {
                Files.createLink(file, whole);
            } catch (FileAlreadyExistsException first) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            } catch (UnsupportedOperationException | FileSystemException noLinks) {
                Files.move(whole, file); // a file system without hard links: refuses an existing name too
            }
            return token;
        } finally {
            Files.deleteIfExists(whole);
        }
    }

    private record Entry(String accountId, byte[] digest) {
    }
}
