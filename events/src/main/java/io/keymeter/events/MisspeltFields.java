package io.keymeter.events;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A request's field names written another way: {@code itemID}, {@code item_id}, {@code item.id}, {@code Referrer},
 * {@code referer} as the HTTP header spells it, {@code unit} for {@code units}. Unknown fields are tolerated (gateways log more than Keymeter reads), but these
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

    /** Longer names are left alone: no spelling of a field is (most unknown fields are cheaper to skip). */
    private static final int LONGEST = 32;

    /** Each field by its {@link #letters}, the same word written another way. */
    private final Map<String, String> byWord = new HashMap<>();
    /** Each field by its {@link #folded} name, the first one where two differ by a last s (referrer, referrers). */
    private final Map<String, String> byFolded = new HashMap<>();
    /** Names shorter than this spell no field: its shortest folded name, less the letter {@code referer} lacks. */
    private final int shortest;
    /** How many fields there are: at most one name of a record is noted for each. */
    private final int fields;

    private MisspeltFields(Collection<?> fields) {
        this.fields = fields.size();
        int min = LONGEST;
        for (Object field : fields) {
            String name = String.valueOf(field);
            String folded = folded(name);
            byWord.putIfAbsent(letters(name), name);
            byFolded.putIfAbsent(folded, name);
            min = Math.min(min, folded.length());
        }
        shortest = min - 1;
    }

    /** The field {@code name} was meant to be, or null when it is one exactly or is no spelling of one. */
    public String meant(String name) {
        if (name.length() > LONGEST || name.length() < shortest) {
            return null;
        }
        // the same word first (referer: referrer, not referrers), then the same but for a last s
        String word = letters(name);
        String field = byWord.get(word);
        if (field == null) {
            field = byFolded.get(withoutLastS(word));
        }
        return field == null || field.equals(name) ? null : field;
    }

    /**
     * {@code found} with {@code name} noted when it spells one of these fields another way: the first such name makes
     * the {@link Found} (a record without one allocates nothing).
     */
    public Found note(Found found, String name) {
        String field = meant(name);
        if (field == null) {
            return found;
        }
        Found noted = found == null ? new Found(fields) : found;
        noted.add(name, field);
        return noted;
    }

    /**
     * The names of one record that spell a field another way, the first of each field, in the record's order. Every
     * one is looked at: when only the first was, a {@code referer} beside its {@code referrer} hid an {@code item_id}.
     */
    public static final class Found {

        /** Pairs: a name as written, the field it means. */
        private final String[] names;
        private int count;

        private Found(int fields) {
            names = new String[2 * fields];
        }

        private void add(String name, String field) {
            for (int i = 1; i < 2 * count; i += 2) {
                if (names[i].equals(field)) {
                    return;
                }
            }
            names[2 * count] = name;
            names[2 * count + 1] = field;
            count++;
        }

        /** The refusal for the first name whose field the record lacks (or gives as null), or null when none. */
        public String refusal(Predicate<String> given) {
            for (int i = 0; i < 2 * count; i += 2) {
                if (!given.test(names[i + 1])) {
                    return MisspeltFields.refusal(names[i], names[i + 1]);
                }
            }
            return null;
        }
    }

    /** The one of {@code fields} that {@code name} spells another way, or null (for a body's unknown field). */
    public static String meant(String name, Collection<?> fields) {
        return new MisspeltFields(fields).meant(name);
    }

    /** Why a misspelt field is refused: "itemID: is not a field; did you mean itemId?". */
    public static String refusal(String name, String meant) {
        return name + ": is not a field; did you mean " + meant + "?";
    }

    /**
     * A name reduced to what a misspelling keeps: its ASCII letters and digits in lower case (so {@code item_id},
     * {@code item.id}, {@code " itemId"}, {@code itemId} with a NUL or a zero-width space), {@code referer} read as
     * {@code referrer}, and without a last {@code s} ({@code unit}: billed as 1 unit, {@code itemIds}).
     */
    static String folded(String name) {
        return withoutLastS(letters(name));
    }

    private static String withoutLastS(String word) {
        return word.endsWith("s") ? word.substring(0, word.length() - 1) : word;
    }

    /** The name's ASCII letters and digits in lower case, {@code referer} read as {@code referrer}. */
    private static String letters(String name) {
        StringBuilder kept = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
                kept.append(c);
            } else if (c >= 'A' && c <= 'Z') {
                kept.append((char) (c + ('a' - 'A')));
            }
        }
        return kept.toString().replace("referer", "referrer");
    }
}
