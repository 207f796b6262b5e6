package io.keymeter.credentials.api;

import io.keymeter.credentials.api.CredentialResponses.CredentialList;
import io.keymeter.credentials.api.CredentialResponses.CredentialView;
import io.keymeter.platform.web.ApiProblem;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;

/**
 * One page of an account's credentials ({@code GET /v1/credentials?limit=&after=}), in the list's order: oldest
 * first, then by id. Without {@code limit} the list is whole, as the contract has it; with it, at most that many and
 * a {@code next} cursor while more remain. The cursor names the last credential listed by its creation time and id,
 * so a page after it is the same whether that credential was deleted or others created since (a new one is
 * listed last). An account of 4,000 credentials near the item-access limit was one answer of 19–53 MB.
 */
record CredentialPage(Integer limit, Cursor after) {

    static final int MAX_LIMIT = 1_000;
    static final Comparator<CredentialView> ORDER =
            Comparator.comparing(CredentialView::createdAt).thenComparing(CredentialView::id);

    /** Reads {@code limit} and {@code after} as given (null when absent), or refuses them saying why. */
    static CredentialPage of(String limit, String after) {
        if (limit == null && after != null) {
            throw ApiProblem.invalid("after", "is given with limit only");
        }
        return new CredentialPage(limit == null ? null : limit(limit), after == null ? null : Cursor.parse(after));
    }

    /** The page of {@code listed} (in any order). */
    CredentialList pageOf(List<CredentialView> listed) {
        List<CredentialView> sorted = listed.stream().sorted(ORDER)
                .filter(view -> after == null || after.precedes(view)).toList();
        if (limit == null || sorted.size() <= limit) {
            return new CredentialList(sorted, null);
        }
        List<CredentialView> page = sorted.subList(0, limit);
        return new CredentialList(List.copyOf(page), Cursor.of(page.get(page.size() - 1)).text());
    }

    private static int limit(String raw) {
        try {
            int value = Integer.parseInt(raw);
            if (value >= 1 && value <= MAX_LIMIT) {
                return value;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiProblem.invalid("limit", "must be an integer from 1 to " + MAX_LIMIT);
    }

    /** Where a page ends: its last credential's creation time and id, as base64url text. */
    record Cursor(Instant createdAt, String id) {

        static Cursor of(CredentialView view) {
            return new Cursor(view.createdAt(), view.id());
        }

        static Cursor parse(String text) {
            try {
                String decoded = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
                int space = decoded.indexOf(' ');
                if (space > 0 && space < decoded.length() - 1) {
                    return new Cursor(Instant.parse(decoded.substring(0, space)), decoded.substring(space + 1));
                }
            } catch (IllegalArgumentException | DateTimeParseException e) {
                // refused below
            }
            throw ApiProblem.invalid("after", "is not a cursor this call gave; pass a page's next as it came");
        }

        String text() {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString((createdAt + " " + id).getBytes(StandardCharsets.UTF_8));
        }

        boolean precedes(CredentialView view) {
            int byTime = view.createdAt().compareTo(createdAt);
            return byTime > 0 || byTime == 0 && view.id().compareTo(id) > 0;
        }
    }
}
