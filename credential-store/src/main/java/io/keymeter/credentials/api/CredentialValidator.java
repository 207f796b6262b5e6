package io.keymeter.credentials.api;

import io.keymeter.events.Referrers;
import io.keymeter.events.ServiceCatalog;
import io.keymeter.platform.config.DurationText;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.platform.web.ApiProblem.FieldError;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The syntax rules of CONTRACT §3, checked before a command is sent: each broken rule is one field error, all of
 * them reported at once. Lists come back without duplicates, in their first-seen order.
 */
final class CredentialValidator {

    static final int MAX_NAME = 128;
    static final int MAX_ITEMS = 1000;
    static final int MAX_REFERRERS = 100;
    /** Far above the catalog's services, with repeats: a list of millions made one field error each. */
    static final int MAX_PRIVILEGES = 100;
    private static final Pattern ITEM_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final List<FieldError> errors = new ArrayList<>();

    /**
     * The versions a change's {@code If-Match} accepts, null for none ({@link IfMatch}); a malformed one is an error
     * of field {@code If-Match}, reported with the body's field errors.
     */
    List<Long> ifMatch(HttpServletRequest request) {
        try {
            return IfMatch.versions(request);
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("If-Match", e.getMessage()));
            return null;
        }
    }

    /** Throws the collected errors as one 400, if any. */
    void throwIfInvalid() {
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
    }

    String name(String name) {
        if (name == null || name.isBlank()) {
            errors.add(new FieldError("name", "is required"));
        } else if (name.codePointCount(0, name.length()) > MAX_NAME) { // characters, not UTF-16 units (emoji: 2)
            errors.add(new FieldError("name", "must be 1-" + MAX_NAME + " characters"));
        } else if (!isPrintable(name)) {
            errors.add(new FieldError("name", "must not contain control characters (other than tab and line"
                    + " breaks), bidirectional overrides or isolates, or unpaired surrogates"));
        }
        return name;
    }

    /**
     * No control character but tab and line breaks (a NUL, an escape: the name is shown in the console, reports and
     * a CSV, which quotes line breaks) and no half of a surrogate pair, which no UTF-8 can carry: such a name was
     * taken, and read back as "?" in the usage CSV. No bidirectional override or isolate (U+202A–U+202E,
     * U+2066–U+2069): one reversed the text after it wherever the name is shown, in the console, the CSV and
     * statements, so a name could pass for another.
     */
    static boolean isPrintable(String text) {
        // code points pair the halves of a surrogate pair and hand a lone half on alone
        return text.codePoints().allMatch(CredentialValidator::isPrintableCodePoint);
    }

    private static boolean isPrintableCodePoint(int codePoint) {
        boolean control = Character.isISOControl(codePoint)
                && codePoint != '\t' && codePoint != '\n' && codePoint != '\r';
        boolean bidi = codePoint >= 0x202a && codePoint <= 0x202e || codePoint >= 0x2066 && codePoint <= 0x2069;
        boolean loneSurrogate = codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE;
        return !control && !bidi && !loneSurrogate;
    }

    List<String> privileges(List<String> privileges) {
        if (privileges == null || privileges.isEmpty()) {
            errors.add(new FieldError("privileges", "at least one privilege is required"));
            return List.of();
        }
        if (privileges.size() > MAX_PRIVILEGES) {
            errors.add(new FieldError("privileges", "at most " + MAX_PRIVILEGES + " privileges"));
            return List.of();
        }
        for (int i = 0; i < privileges.size(); i++) {
            if (ServiceCatalog.byPrivilege(privileges.get(i)).isEmpty()) {
                errors.add(new FieldError("privileges[" + i + "]", "is not a privilege of GET /v1/privileges"));
            }
        }
        return distinct(privileges);
    }

    /** {@code required}: a PUT of item access must name the list, even empty. */
    List<String> itemAccess(List<String> itemAccess, boolean required) {
        if (itemAccess == null) {
            if (required) {
                errors.add(new FieldError("itemAccess", "is required (an empty list allows no item restriction)"));
            }
            return List.of();
        }
        if (itemAccess.size() > MAX_ITEMS) {
            errors.add(new FieldError("itemAccess", "at most " + MAX_ITEMS + " item ids"));
            return List.of();
        }
        for (int i = 0; i < itemAccess.size(); i++) {
            String item = itemAccess.get(i);
            if (item == null || !ITEM_ID.matcher(item).matches()) {
                errors.add(new FieldError("itemAccess[" + i + "]", "must be 1-64 letters, digits, _ or -"));
            }
        }
        return distinct(itemAccess);
    }

    List<String> referrers(List<String> referrers, boolean required) {
        if (referrers == null) {
            if (required) {
                errors.add(new FieldError("referrers", "is required (an empty list allows any referrer)"));
            }
            return List.of();
        }
        if (referrers.size() > MAX_REFERRERS) {
            errors.add(new FieldError("referrers", "at most " + MAX_REFERRERS + " referrers"));
            return List.of();
        }
        for (int i = 0; i < referrers.size(); i++) {
            String tooWide = Referrers.wildcardTooWide(referrers.get(i));
            String address = Referrers.addressNotAsBrowsersSendIt(referrers.get(i));
            if (tooWide != null) {
                errors.add(new FieldError("referrers[" + i + "]", Referrers.isAddress(tooWide)
                        // *.example.0 is no address, but no domain either: browsers take a numeric last label as IPv4
                        ? "'*." + tooWide + "' ends in a number, as an IP address does: a wildcard there admits "
                        + "addresses, not subdomains; name each host, without a wildcard"
                        : tooWide.indexOf('.') < 0
                        ? "'*." + tooWide + "' would admit every host under " + tooWide + ": name a domain under it"
                        : "'*." + tooWide + "' would admit sites anyone can register under " + tooWide
                        + ": name a domain of your own"));
            } else if (address != null) {
                errors.add(new FieldError("referrers[" + i + "]", "'" + address + "' ends in a number, so browsers"
                        + " read it as an IPv4 address and send it as four decimal numbers (127.1 as 127.0.0.1,"
                        + " 0x7f.0.0.1 too, 10.0.0.010 as 10.0.0.8): write it so, or it matches no referrer"));
            } else if (!Referrers.isValidPattern(referrers.get(i))) {
                errors.add(new FieldError("referrers[" + i + "]",
                        "must be scheme://host[:port][/path], '*' only as the leftmost host label"));
            }
        }
        return distinctPatterns(referrers);
    }

    /**
     * Each pattern once by what it admits, in its first spelling: {@code https://Example.com} after
     * {@code https://example.com/} was stored beside it, one allowed referrer listed twice.
     */
    private static List<String> distinctPatterns(List<String> patterns) {
        Map<String, String> byMeaning = new LinkedHashMap<>();
        for (String pattern : patterns) {
            if (pattern != null) {
                byMeaning.putIfAbsent(Objects.requireNonNullElse(Referrers.canonical(pattern), pattern), pattern);
            }
        }
        return List.copyOf(byMeaning.values());
    }

    void slot(Integer slot) {
        if (slot != null && slot != 1 && slot != 2) {
            errors.add(new FieldError("slot", "must be 1 or 2"));
        }
    }

    /** A slot in a path: "1" or "2". */
    int pathSlot(String slot) {
        if ("1".equals(slot) || "2".equals(slot)) {
            return Integer.parseInt(slot);
        }
        errors.add(new FieldError("slot", "must be 1 or 2"));
        return 0;
    }

    /** {@code required}: generate needs a date; regenerate may keep the previous one. */
    void expiresAt(Instant expiresAt, boolean required, Instant now, KeymeterProperties.Keys keys) {
        if (expiresAt == null) {
            if (required) {
                errors.add(new FieldError("expiresAt", "is required"));
            }
            return;
        }
        if (expiresAt.isBefore(now.plus(keys.minLifetime())) || expiresAt.isAfter(now.plus(keys.maxLifetime()))) {
            errors.add(new FieldError("expiresAt", "must be between " + DurationText.of(keys.minLifetime()) + " and "
                    + DurationText.of(keys.maxLifetime()) + " from now (keymeter.keys.min-lifetime, max-lifetime)"));
        }
    }

    private static List<String> distinct(List<String> values) {
        return List.copyOf(new LinkedHashSet<>(values.stream().filter(v -> v != null).toList()));
    }
}
