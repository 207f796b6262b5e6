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

    private IfMatch() {
    }

    /** The versions the request's {@code If-Match} lines name, taken as one list (RFC 9110 §5.3). */
    static List<Long> versions(HttpServletRequest request) {
        List<String> lines = Collections.list(request.getHeaders(HttpHeaders.IF_MATCH));
        return lines.isEmpty() ? null : versions(String.join(", ", lines));
    }

    /**
     * The versions an {@code If-Match} value names: null when there is no condition (absent, or {@code *}: the
     * credential exists, which every change requires anyway); empty when none can match (weak tags never match under
     * the strong comparison If-Match uses, nor tags that are not one of our versions).
     *
     * @throws IllegalArgumentException for a value that is not {@code *} alone nor a list of quoted entity-tags:
     *         refused, never taken as unconditional (Spring's lenient {@code ETag.parse} skipped what it could not
     *         read, so {@code 7, *} was no condition)
     */
    static List<Long> versions(String header) {
        if (header == null) {
            return null;
        }
        String value = header.strip();
        if (value.equals("*")) {
            return null;
        }
        List<Long> versions = new ArrayList<>();
        boolean any = false;
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
            if (!weak && tag.matches("[1-9][0-9]{0,17}")) {
                versions.add(Long.parseLong(tag));
            }
            any = true;
            i = close + 1;
        }
        if (!any) {
            throw new IllegalArgumentException(MALFORMED);
        }
        return List.copyOf(versions);
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
     * moved yet): a tag of its own then, which no If-Match can name, so a conditional read never answers 304 over a
     * changed status.
     */
    static String tag(Credential credential, Instant now) {
        boolean ahead = credential.keys().stream().anyMatch(k -> k.statusAt(now) != k.status());
        return ahead ? credential.version() + "-expired" : Long.toString(credential.version());
    }
}
