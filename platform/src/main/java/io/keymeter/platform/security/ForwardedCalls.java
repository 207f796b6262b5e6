package io.keymeter.platform.security;

import io.keymeter.platform.web.AdvertisedAddress;
import io.keymeter.platform.web.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * How one instance authenticates a read it forwards to the instance that owns the data, without the caller's token.
 * <p>
 * Forwarded calls used to carry the caller's bearer token, over plain HTTP, to whatever address Kafka Streams'
 * metadata named: anyone able to join Keymeter's consumer groups could announce an address and collect tokens. Now
 * the forwarding instance sends {@code Authorization: Keymeter-Forwarded account=…, issued=…, signature=…}, an
 * HMAC-SHA256 of the method, the raw path and query, the account and the time, keyed by the SHA-256 digest of the
 * token the caller signed in with. Every instance configured with the same accounts holds that digest; none sends it.
 * Whoever receives such a header gets that one read of that one account, for {@link #VALID_FOR}, and no token.
 * Only a {@code GET} marked {@code X-Keymeter-Forwarded} is taken this way: what the forwarders send, and nothing that
 * changes anything.
 */
@Component
public class ForwardedCalls {

    public static final String SCHEME = "Keymeter-Forwarded";
    /** How long a signed call is taken, either side of its time: instances' clocks must agree within it. */
    static final Duration VALID_FOR = Duration.ofSeconds(30);
    /** Request attribute: the digest of the token the call was authenticated with, the key to sign its forwards. */
    static final String KEY_ATTRIBUTE = ForwardedCalls.class.getName() + ".key";
    private static final byte[] CONTEXT = "keymeter-forwarded-v1".getBytes(StandardCharsets.UTF_8);
    /** Signed when the account is unknown, so that the time taken does not tell whether it exists. */
    private static final List<byte[]> NO_KEY = List.of(new byte[32]);
    private static final Logger log = LoggerFactory.getLogger(ForwardedCalls.class);

    private final AccessTokens tokens;
    private final Clock clock;

    @Autowired
    public ForwardedCalls(AccessTokens tokens) {
        // the system clock, not the application's: freshness must not follow a clock a test or a demo has set
        this(tokens, Clock.systemUTC());
    }

    ForwardedCalls(AccessTokens tokens, Clock clock) {
        this.tokens = tokens;
        this.clock = clock;
    }

    /** The {@code Authorization} value that forwards {@code request}'s call, as {@code GET uri}, to another instance. */
    public String authorization(HttpServletRequest request, URI uri) {
        Object account = request.getAttribute(Account.ATTRIBUTE);
        Object key = request.getAttribute(KEY_ATTRIBUTE);
        if (!(account instanceof Account caller) || !(key instanceof byte[] digest)) {
            throw new IllegalStateException("forwarding a call that no account token authenticated");
        }
        return authorization(caller, digest, "GET", uri);
    }

    /**
     * The {@code Authorization} value that forwards {@code GET uri} for the holder of an account's {@code token}
     * (tools and tests, which hold the token anyway); empty when no account has that token.
     */
    public Optional<String> authorizationFor(String token, URI uri) {
        byte[] digest = Tokens.digest(token);
        return tokens.accountOfDigest(digest).map(account -> authorization(account, digest, "GET", uri));
    }

    String authorization(Account account, byte[] key, String method, URI uri) {
        long issued = clock.millis();
        byte[] signature = sign(key, method, uri.getRawPath(), uri.getRawQuery(), account.id(), issued);
        return SCHEME + " account=" + account.id() + ", issued=" + issued + ", signature="
                + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    }

    /**
     * The account a forwarded call acts for, with the key that signed it, if {@code credentials} (what follows the
     * scheme) sign this very call ({@code rawPath} and {@code rawQuery} as received) within {@link #VALID_FOR}.
     */
    Optional<Signed> authenticate(String credentials, String method, String rawPath, String rawQuery) {
        if (!method.equals("GET")) {
            return Optional.empty();
        }
        Map<String, String> fields = fields(credentials);
        String accountId = fields.get("account");
        String issuedText = fields.get("issued");
        String signatureText = fields.get("signature");
        if (accountId == null || issuedText == null || signatureText == null) {
            return Optional.empty();
        }
        long issued;
        byte[] presented;
        try {
            issued = Long.parseLong(issuedText);
            presented = Base64.getUrlDecoder().decode(signatureText);
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not a number, not base64: not a signature
        }
        if (Math.abs((double) clock.millis() - issued) > VALID_FOR.toMillis()) {
            return Optional.empty();
        }
        List<byte[]> keys = tokens.accountDigests(accountId);
        Signed found = null;
        for (byte[] key : keys.isEmpty() ? NO_KEY : keys) {
            if (MessageDigest.isEqual(sign(key, method, rawPath, rawQuery, accountId, issued), presented)
                    && !keys.isEmpty()) {
                found = new Signed(new Account(accountId), key);
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The caller's {@code Accept}, all its values, for the forwarded call: the owner answers what the caller asked
     * for, as it would had the call reached it first (without it, a read the owner refuses with 406 was answered
     * JSON when forwarded).
     */
    public static Optional<String> accept(HttpServletRequest request) {
        List<String> values = Collections.list(request.getHeaders("Accept"));
        return values.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", values));
    }

    /**
     * What the caller gets when the owner refused a call this instance forwarded: a 503, not the owner's 401, which
     * would tell a caller whose token is good that it is not (the console signs out on a 401). The owner's reason
     * goes to the log for the operator.
     */
    public static ApiProblem refusedByOwner(HostInfo owner, String ownersAnswer) {
        log.warn("{}:{} refused a call forwarded to it ({}): instances need the same keymeter.accounts, clocks within {} "
                + "s and this version", AdvertisedAddress.uriHost(owner.host()), owner.port(), forLog(ownersAnswer),
                VALID_FOR.toSeconds());
        return ApiProblem.unavailable("The instance that holds this data refused this instance's forwarded call: the "
                + "instances do not hold the same account tokens, their clocks differ by more than "
                + VALID_FOR.toSeconds() + " s, or one runs an earlier version. Try again; if it persists, tell the "
                + "operator.", Duration.ofSeconds(5));
    }

    /** How often an owner that does not answer is logged, per owner. */
    static final Duration UNREACHABLE_LOG_INTERVAL = Duration.ofMinutes(1);
    private static final Map<HostInfo, Long> unreachableLogged = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Logs, at most once a minute per owner, that the instance Kafka Streams names as the owner of what a call asks
     * for does not answer (its callers get 503): an advertised address this instance cannot reach
     * ({@code keymeter.credentials.advertised-host}, {@code application.server}) failed every such call with no word
     * in any log.
     */
    public static void ownerDidNotAnswer(HostInfo owner, Throwable cause) {
        long now = System.nanoTime();
        boolean[] due = {false};
        unreachableLogged.compute(owner, (host, last) -> {
            due[0] = last == null || now - last >= UNREACHABLE_LOG_INTERVAL.toNanos();
            return due[0] ? now : last;
        });
        if (!due[0]) {
            return;
        }
        log.warn("{}:{}, which Kafka Streams names as the instance holding the data of calls made here, does not"
                + " answer ({}): those calls answer 503. Is that address (keymeter.credentials.advertised-host and"
                + " server.port, or application.server) reachable from this instance? Logged at most once a minute.",
                AdvertisedAddress.uriHost(owner.host()), owner.port(), cause.toString());
    }

    /** Longest part of another instance's answer that goes to the log. */
    static final int LOGGED_ANSWER_CHARS = 500;

    /**
     * Another instance's answer as one log line: cut to {@link #LOGGED_ANSWER_CHARS}, line breaks, other control
     * and format characters escaped, so an answer cannot forge log lines or flood the log (whatever answers at a
     * member's advertised address writes it).
     */
    static String forLog(String answer) {
        if (answer == null) {
            return "";
        }
        StringBuilder line = new StringBuilder();
        int end = Math.min(answer.length(), LOGGED_ANSWER_CHARS);
        for (int i = 0; i < end; i++) {
            char c = answer.charAt(i);
            // format characters too: bidi overrides could make the line read otherwise than it is
            if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || Character.getType(c) == Character.FORMAT) {
                line.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                line.append(c);
            }
        }
        if (answer.length() > end) {
            line.append("… (").append(answer.length()).append(" chars)");
        }
        return line.toString();
    }

    record Signed(Account account, byte[] key) {
    }

    private static Map<String, String> fields(String credentials) {
        Map<String, String> fields = new HashMap<>();
        for (String part : credentials.split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                fields.putIfAbsent(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        }
        return fields;
    }

    private static byte[] sign(byte[] key, String method, String rawPath, String rawQuery, String accountId, long issued) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(CONTEXT);
            // each part ends with a zero byte, which neither a raw URI nor an account id holds: parts cannot run together
            for (String part : new String[] {method, rawPath, rawQuery == null ? "" : rawQuery, accountId,
                    Long.toString(issued)}) {
                mac.update(part.getBytes(StandardCharsets.UTF_8));
                mac.update((byte) 0);
            }
            return mac.doFinal();
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
