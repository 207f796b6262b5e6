package io.keymeter.credentials.api;

import io.keymeter.platform.web.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.http.ETag;
import org.springframework.http.HttpHeaders;

/**
 * Conditional changes (RFC 9110 §13.1.1): a credential's entity-tag is its version, {@code "7"}, and a change sent
 * with {@code If-Match} is applied only while the credential is at a version it names. Regenerate and invalidate name
 * a slot, not a key: without this, an invalidation meant for a key a colleague had meanwhile regenerated killed its
 * successor, and a privileges edit made over a stale read undid another one.
 */
final class IfMatch {

    private IfMatch() {
    }

    /**
     * The versions an {@code If-Match} value names: null when there is no condition (absent, or {@code *}: the
     * credential exists, which every change requires anyway); empty when none can match (weak tags never match under
     * the strong comparison If-Match uses, nor tags that are not one of our versions). A value that is not a list of
     * quoted entity-tags is refused, not taken as unconditional.
     */
    static List<Long> versions(HttpServletRequest request) {
        List<String> lines = Collections.list(request.getHeaders(HttpHeaders.IF_MATCH));
        return lines.isEmpty() ? null : versions(String.join(", ", lines)); // repeated lines are one list
    }

    static List<Long> versions(String header) {
        if (header == null) {
            return null;
        }
        List<ETag> tags = ETag.parse(header);
        if (tags.isEmpty()) {
            throw ApiProblem.invalid("If-Match", "must be * or quoted entity-tags as the ETag header gives them,"
                    + " such as \"7\"");
        }
        List<Long> versions = new ArrayList<>();
        for (ETag tag : tags) {
            if (tag.isWildcard()) {
                return null;
            }
            if (!tag.weak() && tag.tag().matches("[1-9][0-9]{0,17}")) {
                versions.add(Long.parseLong(tag.tag()));
            }
        }
        return List.copyOf(versions);
    }

    /** The entity-tag of a credential at this version, unquoted (Spring quotes it). */
    static String tag(long version) {
        return Long.toString(version);
    }
}
