package io.keymeter.events;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A request's field names written another way: {@code itemID}, {@code item_id}, {@code Referrer}, and {@code referer}
 * as the HTTP header spells it. Unknown fields are tolerated (gateways log more than Keymeter reads), but these
 * are a gateway's misspelling of one Keymeter reads: ignored, {@code itemID} let a request past its credential's
 * item access and billed it, and {@code referer} refused one as if no referrer were sent.
 */
public final class MisspeltFields {

    /** The fields of a request line a gateway sends to ingest. */
    public static final MisspeltFields LINE = new MisspeltFields(List.of("requestId", "apiKey", "service", "operation",
            "units", "itemId", "referrer", "timestamp"));
    /** The fields of a {@code keymeter.requests} record. */
    public static final MisspeltFields TOPIC = new MisspeltFields(List.of("requestId", "keyId", "secretHash", "service",
            "operation", "units", "itemId", "referrer", "timestamp"));

    private static final int LONGEST = "secret_hash".length();

    /** Each field by its name in lower case without {@code _} and {@code -}. */
    private final Map<String, String> byFolded;

    private MisspeltFields(List<String> fields) {
        byFolded = fields.stream().collect(Collectors.toMap(MisspeltFields::folded, Function.identity()));
    }

    /** The field {@code name} was meant to be, or null when it is one exactly or is no spelling of one. */
    public String meant(String name) {
        if (name.length() > LONGEST || name.length() < "units".length()) {
            return null; // most unknown fields: nothing to fold
        }
        String folded = folded(name);
        String field = byFolded.get("referer".equals(folded) ? "referrer" : folded);
        return field == null || field.equals(name) ? null : field;
    }

    /** The one of {@code fields} that {@code name} spells another way, or null (for a body's unknown field). */
    public static String meant(String name, Collection<?> fields) {
        String folded = folded(name);
        for (Object field : fields) {
            String candidate = String.valueOf(field);
            String target = folded(candidate);
            if (!candidate.equals(name) && (target.equals(folded) || target.equals("referrer") && folded.equals("referer")
                    || target.equals("referrers") && folded.equals("referers"))) {
                return candidate;
            }
        }
        return null;
    }

    /** Why a misspelt field is refused: "itemID: is not a field; did you mean itemId?". */
    public static String refusal(String name, String meant) {
        return name + ": is not a field; did you mean " + meant + "?";
    }

    private static String folded(String name) {
        return name.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }
}
