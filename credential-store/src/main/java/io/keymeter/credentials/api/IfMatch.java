package io.keymeter.credentials.api;

import io.keymeter.credentials.lifecycle.Credential;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.http.HttpHeaders;

/**
 * Conditional changes (RFC 9110 §13.1.1): a credential's entity-tag is its version, {@code "7"}, and a change sent
 * with {@code If-Match} is applied only while the credential is at a version it names. Regenerate and invalidate name
 * a slot, not a key: without this, an invalidation meant for a key a colleague had meanwhile regenerated killed its
 * successor, and a privileges edit made over a stale read undid another one.
 */
final class IfMatch {

    static final String MALFORMED =
            "must be * alone or quoted entity-tags as the ETag header gives them, such as \"7\"";

    /** After the version in the tag of a view in which a key reads expired before its expiry is stored. */
    private static final String EXPIRED = "-expired";

    private IfMatch() {
    }

    /** The versions the request's {@code If-Match} lines name, taken as one list (RFC 9110 §5.3). */
    static List<Long> versions(HttpServletRequest request) {
        List<String> lines = Collections.list(request.getHeaders(HttpHeaders.IF_MATCH));
        return lines.isEmpty() ? null : versions(String.join(", ", lines));
    }

    /**
     * The versions an {@code If-Match} value names: null when there is no condition (absent, or {@code *}: the
     * credential exists, which every change requires anyway); empty when none can match (no tag at all, weak tags,
     * which never match under the strong comparison If-Match uses, and tags that are not one of our versions).
     * {@code "7-expired"}, the tag of version 7 read while a key showed expired before its expiry was stored, names 7:
     * the change is decided after that expiry is stored, on the state the read showed.
     *
     * @throws IllegalArgumentException for a value that is not {@code *} alone nor a list of quoted entity-tags:
     *         refused, never taken as unconditional (Spring's lenient {@code ETag.parse} skipped what it could not
     *         read, so {@code 7, *} was no condition)
     */
    static List<Long> versions(String header) {
        if (header == null) {
            return null;
        }
        String value = trimmed(header);
        if (value.equals("*")) {
            return null;
        }
        List<Long> versions = new ArrayList<>();
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c == ',' || c == ' ' || c == '\t') { // separators, and the empty elements a list may hold
                i++;
                continue;
            }
            boolean weak = value.startsWith("W/", i);
            int open = weak ? i + 2 : i;
            int close = open < value.length() && value.charAt(open) == '"' ? value.indexOf('"', open + 1) : -1;
            if (close < 0 || !opaque(value, open + 1, close) || !endsElement(value, close + 1)) {
                throw new IllegalArgumentException(MALFORMED);
            }
            String tag = value.substring(open + 1, close);
            if (tag.endsWith(EXPIRED)) {
                tag = tag.substring(0, tag.length() - EXPIRED.length());
            }
            if (!weak && tag.matches("[1-9][0-9]{0,17}")) {
                versions.add(Long.parseLong(tag));
            }
            i = close + 1;
        }
        return List.copyOf(versions); // no tag at all (an empty list, RFC 9110 §5.6.1): nothing matches, 412
    }

    /** Without the white space around it: spaces and tabs only, so no control character passes for {@code *}. */
    private static String trimmed(String value) {
        int from = 0;
        int to = value.length();
        while (from < to && (value.charAt(from) == ' ' || value.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (value.charAt(to - 1) == ' ' || value.charAt(to - 1) == '\t')) {
            to--;
        }
        return value.substring(from, to);
    }

    /** etagc (RFC 9110 §8.8.3): visible characters but the double quote, and obs-text. */
    private static boolean opaque(String value, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c == 0x7F) {
                return false;
            }
        }
        return true;
    }

    /** After a tag: spaces, then a comma or the end. */
    private static boolean endsElement(String value, int from) {
        int i = from;
        while (i < value.length() && (value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
            i++;
        }
        return i == value.length() || value.charAt(i) == ',';
    }

    /**
     * The entity-tag of a credential as shown at {@code now}, unquoted (Spring quotes it): its version, unless a key
     * reads expired by the clock before its expiry is stored (the view shows {@code expired}, the version has not
     * moved yet): {@code <version>-expired}, so a conditional read never answers 304 over a changed status. A change
     * conditional on it is decided on that version, its due expiries stored first: what the read showed.
     */
    static String tag(Credential credential, Instant now) {
        boolean ahead = credential.keys().stream().anyMatch(k -> k.statusAt(now) != k.status());
        return ahead ? credential.version() + EXPIRED : Long.toString(credential.version());
    }
}
