package io.keymeter.events;

import com.google.common.net.InternetDomainName;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Allowed-referrer patterns of a credential (CONTRACT §3): {@code scheme://host[:port][/path]}, where the leftmost
 * host label may be {@code *}. {@code https://*.example.com} matches {@code https://example.com} and every subdomain
 * of it. Scheme and port must match (a missing port is the scheme's default); a pattern with a path matches that
 * path and everything under it, a pattern without one matches any path. A pattern's path may end in {@code /*},
 * which says the same; a {@code *} anywhere else in it makes the pattern invalid. Paths are compared with their
 * percent-escapes in one spelling ({@link #withNormalEscapes}). Shared by the credential store (validation),
 * metering and {@code /v1/verify} (enforcement).
 */
public final class Referrers {

    /** Longest pattern or referrer considered. */
    public static final int MAX_LENGTH = 2048;

    private static final Pattern SCHEME = Pattern.compile("[a-z][a-z0-9+.-]{0,31}");
    private static final Pattern HEX_NUMBER = Pattern.compile("0[xX][0-9a-fA-F]*");
    /** An IPv4 address as browsers write it: four decimal numbers up to 255, without leading zeros. */
    private static final Pattern DOTTED_QUAD =
            Pattern.compile("((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    /**
     * A host label, ASCII: letters, digits and hyphens (not at either end), and underscores, which browsers take in a
     * host (the URL Standard's host parser does; {@code https://dev_portal.example.com} is a page some sites serve).
     */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*");
    /**
     * A referrer's path as browsers send it: they leave {@code | [ ] ^} and others unencoded, which a URI may not hold
     * (checked as a URI, {@code https://example.com/a|b} was refused whatever the patterns). Visible ASCII but the
     * backslash; the query and fragment are cut off before and never compared.
     */
    private static final Pattern REFERRER_PATH = Pattern.compile("(/[\\x21-\\x5b\\x5d-\\x7e]*)?");

    private Referrers() {
    }

    /**
     * True when the string is a well-formed referrer pattern a credential may be given. Never throws. A wildcard may
     * not sit on a single label or a public suffix ({@link #wildcardTooWide}). (A pattern stored before these rules
     * still matches as it did.)
     */
    public static boolean isValidPattern(String pattern) {
        Parsed parsed = parse(pattern, true);
        return parsed != null && !tooWide(parsed) && !addressNotAsSent(parsed)
                && withoutDotSegments(parsed.path()).equals(parsed.path()); // a referrer never has them: it would match none
    }

    /**
     * The host of a pattern that names an IPv4 address otherwise than browsers send it, else null. The URL Standard
     * reads a host ending in a number as an address and sends it as four decimal numbers: {@code 127.1},
     * {@code 0x7f.0.0.1} and {@code 10.0.0.010} arrive as {@code 127.0.0.1}, {@code 127.0.0.1} and {@code 10.0.0.8};
     * {@code example.1} is refused by the browser. Such a pattern was stored and matched no referrer.
     */
    public static String addressNotAsBrowsersSendIt(String pattern) {
        Parsed parsed = parse(pattern, true);
        return parsed != null && addressNotAsSent(parsed) ? parsed.host() : null;
    }

    private static boolean addressNotAsSent(Parsed pattern) {
        return !pattern.wildcard() && isAddress(pattern.host()) && !DOTTED_QUAD.matcher(pattern.host()).matches();
    }

    /**
     * What a valid pattern admits, as one string: two patterns that differ only in spelling ({@code HTTPS://Example.com},
     * {@code https://example.com:443/}, {@code https://example.com/*}) have the same. Null for an invalid pattern.
     */
    public static String canonical(String pattern) {
        Parsed parsed = parse(pattern, true);
        return parsed == null ? null
                : parsed.scheme() + "://" + (parsed.wildcard() ? "*." : "") + parsed.host() + ":" + parsed.port() + parsed.path();
    }

    /**
     * The domain a pattern's wildcard sits on when that lets sites of other owners through, else null: a single label
     * ({@code https://*.com}, {@code https://*.localhost}), the end of an IP address ({@code https://*.0.1}) or a public suffix of Mozilla's list, as Guava carries it
     * ({@code https://*.co.uk}, {@code https://*.github.io}: anyone can register a site there). Browsers refuse
     * cookies for such domains for the same reason.
     */
    public static String wildcardTooWide(String pattern) {
        Parsed parsed = parse(pattern, true);
        return parsed != null && tooWide(parsed) ? parsed.host() : null;
    }

    private static boolean tooWide(Parsed pattern) {
        if (!pattern.wildcard()) {
            return false;
        }
        if (pattern.host().indexOf('.') < 0 || isAddress(pattern.host())) {
            return true;
        }
        try {
            return InternetDomainName.from(pattern.host()).isPublicSuffix();
        } catch (IllegalArgumentException notADomainName) {
            return false;
        }
    }

    /**
     * True when the host's last label is a number, all digits or {@code 0x} and hex digits, as the URL Standard
     * reads it: an IPv4 address or the end of one, no domain name. A wildcard over it, {@code https://*.0.1},
     * admitted {@code https://10.20.0.1} and every address ending so; one over {@code example.0x1} matched nothing,
     * as browsers take such a host for an address.
     */
    public static boolean isAddress(String host) {
        String label = host.substring(host.lastIndexOf('.') + 1);
        return !label.isEmpty() && (label.chars().allMatch(c -> c >= '0' && c <= '9') || HEX_NUMBER.matcher(label).matches());
    }

    /**
     * True when the referrer is allowed by the patterns: with no patterns any referrer (or none) passes; with
     * patterns, a missing or unparseable referrer is refused. Invalid patterns match nothing. Never throws.
     */
    public static boolean matches(List<String> patterns, String referrer) {
        if (patterns == null || patterns.isEmpty()) {
            return true;
        }
        Parsed actual = parse(referrer, false);
        if (actual == null) {
            return false;
        }
        for (String pattern : patterns) {
            Parsed allowed = parse(pattern, true);
            if (allowed != null && allowed.admits(actual)) {
                return true;
            }
        }
        return false;
    }

    /** Null when malformed. {@code wildcard} allows {@code *} as the leftmost label. Query and fragment are ignored for referrers only. */
    private static Parsed parse(String text, boolean isPattern) {
        if (text == null || text.isEmpty()
                // counted in characters, as ingest and verify bound it: an emoji is one, not two UTF-16 units
                || text.length() > MAX_LENGTH && text.codePointCount(0, text.length()) > MAX_LENGTH) {
            return null;
        }
        int schemeEnd = text.indexOf("://");
        if (schemeEnd <= 0) {
            return null;
        }
        String scheme = text.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        if (!SCHEME.matcher(scheme).matches()) {
            return null;
        }
        String rest = text.substring(schemeEnd + 3);
        if (!isPattern) {
            int cut = indexOfAny(rest, "?#");
            if (cut >= 0) {
                rest = rest.substring(0, cut);
            }
        } else if (indexOfAny(rest, "?#") >= 0) {
            return null;
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        if (isPattern && path.endsWith("/*")) {
            path = path.substring(0, path.length() - 2); // "this path and everything under it", which a path says anyway
        }
        if (isPattern && path.indexOf('*') >= 0) {
            return null; // a wildcard elsewhere in a path would be taken literally and match no browser's referrer
        }
        if (!(isPattern ? PATH : REFERRER_PATH).matcher(path).matches() || authority.indexOf('@') >= 0) {
            return null;
        }
        String host = authority;
        int port = defaultPort(scheme);
        int colon = authority.lastIndexOf(':');
        if (colon >= 0) {
            String digits = authority.substring(colon + 1);
            if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            port = Integer.parseInt(digits);
            if (port < 1 || port > 65535) {
                return null;
            }
            host = authority.substring(0, colon);
        }
        host = host.toLowerCase(Locale.ROOT);
        if (!isPattern && host.length() > 1 && host.endsWith(".")) {
            // a page loaded by its fully qualified name (https://example.com./) is the same host
            host = host.substring(0, host.length() - 1);
        }
        boolean wildcard = false;
        if (isPattern && host.startsWith("*.")) {
            wildcard = true;
            host = host.substring(2);
        }
        if (host.isEmpty() || host.length() > 253 || host.endsWith(".")) {
            return null;
        }
        for (String label : host.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return null;
            }
        }
        path = withNormalEscapes(path);
        return new Parsed(scheme, wildcard, host, port, trimSlash(isPattern ? path : withoutDotSegments(path)));
    }

    /**
     * The path with its percent-escapes in one spelling (RFC 3986, 6.2.2): the hex digits of each in upper case, and
     * those of unreserved characters (letters, digits, {@code - . _ ~}) decoded. Browsers send {@code %C3%A9} and a
     * bare {@code ~}, so a pattern written {@code /caf%c3%a9} or {@code /%7Efoo} matched no page at all; other
     * escapes, {@code %2F} among them, stay escapes, and a {@code %} not followed by two hex digits stays as it is.
     */
    static String withNormalEscapes(String path) {
        int percent = path.indexOf('%');
        if (percent < 0) {
            return path;
        }
        StringBuilder normal = new StringBuilder(path.length()).append(path, 0, percent);
        for (int i = percent; i < path.length(); i++) {
            char c = path.charAt(i);
            int high = c == '%' && i + 2 < path.length() ? Character.digit(path.charAt(i + 1), 16) : -1;
            int low = high < 0 ? -1 : Character.digit(path.charAt(i + 2), 16);
            if (low < 0) {
                normal.append(c);
                continue;
            }
            char decoded = (char) (high * 16 + low);
            if (isUnreserved(decoded)) {
                normal.append(decoded);
            } else {
                normal.append('%').append(Character.toUpperCase(path.charAt(i + 1)))
                        .append(Character.toUpperCase(path.charAt(i + 2)));
            }
            i += 2;
        }
        return normal.toString();
    }

    private static boolean isUnreserved(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                || c == '_' || c == '~';
    }

    /**
     * The path with its {@code .} and {@code ..} segments resolved (RFC 3986, 5.2.4), as a browser sends it: a
     * referrer a gateway passes on as it came, {@code https://example.com/docs/../admin}, is under {@code /admin},
     * not under a pattern's {@code /docs}. The path has its escapes normalized first ({@link #withNormalEscapes}), so
     * a dot written {@code %2e}, which a browser takes for a dot too, is one here.
     */
    static String withoutDotSegments(String path) {
        if (!path.contains("/.")) {
            return path;
        }
        Deque<String> kept = new ArrayDeque<>();
        String[] segments = path.substring(1).split("/", -1); // not empty: it holds "/."
        for (int i = 0; i < segments.length; i++) {
            boolean last = i == segments.length - 1;
            switch (segments[i]) {
                case "." -> {
                    if (last) {
                        kept.addLast("");
                    }
                }
                case ".." -> {
                    kept.pollLast();
                    if (last) {
                        kept.addLast("");
                    }
                }
                default -> kept.addLast(segments[i]);
            }
        }
        return "/" + String.join("/", kept);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static String trimSlash(String path) {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static int defaultPort(String scheme) {
        return switch (scheme) {
            case "http", "ws" -> 80;
            case "https", "wss" -> 443;
            default -> -1;
        };
    }

    private record Parsed(String scheme, boolean wildcard, String host, int port, String path) {

        boolean admits(Parsed referrer) {
            if (!scheme.equals(referrer.scheme) || port != referrer.port) {
                return false;
            }
            boolean hostOk = referrer.host.equals(host) || (wildcard && referrer.host.endsWith("." + host));
            if (!hostOk) {
                return false;
            }
            return path.isEmpty() || referrer.path.equals(path) || referrer.path.startsWith(path + "/");
        }
    }
}
