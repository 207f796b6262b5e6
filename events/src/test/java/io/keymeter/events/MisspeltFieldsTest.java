package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MisspeltFieldsTest {

    @ParameterizedTest
    @CsvSource({"itemID,itemId", "item_id,itemId", "ITEM-ID,itemId", "referer,referrer", "Referer,referrer",
            "Referrer,referrer", "api_key,apiKey", "request_id,requestId", "TimeStamp,timestamp", "Units,units",
            "item.id,itemId", "' itemId',itemId", "'itemId ',itemId", "item Id,itemId", "itemIds,itemId", "unit,units",
            "referrers,referrer", "REFERERS,referrer", "'itemId\u200B',itemId"})
    void aFieldWrittenAnotherWayIsNamed(String name, String meant) {
        assertThat(MisspeltFields.LINE.meant(name)).isEqualTo(meant);
    }

    /** Gateways log more than Keymeter reads: those, and the fields themselves, are no misspelling. */
    @ParameterizedTest
    @ValueSource(strings = {"itemId", "referrer", "status", "gateway_id", "latency_ms", "keyId", "user-agent", "x",
            "item", "services_used"})
    void otherNamesAreNoMisspelling(String name) {
        assertThat(MisspeltFields.LINE.meant(name)).isNull();
    }

    /** A body's unknown field, against the fields its type has (a credential's, verify's). */
    @ParameterizedTest
    @CsvSource({"Referrers,referrers", "referers,referrers", "item_access,itemAccess", "EXPIRES-AT,expiresAt",
            "referer,referrer"})
    void aBodysFieldWrittenAnotherWayIsNamed(String name, String meant) {
        assertThat(MisspeltFields.meant(name, java.util.List.of("name", "referrers", "referrer", "itemAccess",
                "expiresAt"))).isEqualTo(meant);
        assertThat(MisspeltFields.meant("colour", java.util.List.of("name", "referrers"))).isNull();
        // the body of PUT …/referrers: referer is shorter than the one field's folded name, referrer
        assertThat(MisspeltFields.meant("referer", java.util.List.of("referrers"))).isEqualTo("referrers");
    }

    @ParameterizedTest
    @CsvSource({"key_id,keyId", "secret_hash,secretHash", "SecretHash,secretHash"})
    void theTopicHasItsOwnFields(String name, String meant) {
        assertThat(MisspeltFields.TOPIC.meant(name)).isEqualTo(meant);
        assertThat(MisspeltFields.LINE.meant(name)).isNull();
    }

    /** Every misspelt name of a record is noted, the first of each field, and refused for a field the record lacks. */
    @org.junit.jupiter.api.Test
    void theFirstMisspellingOfEachMissingFieldIsRefusedInTheRecordsOrder() {
        assertThat(MisspeltFields.LINE.note(null, "status")).isNull();
        MisspeltFields.Found found = MisspeltFields.LINE.note(null, "item_id");
        assertThat(MisspeltFields.LINE.note(found, "status")).isSameAs(found);
        found = MisspeltFields.LINE.note(found, "referer");
        for (int i = 0; i < 40; i++) { // many spellings of one field take no more room than one
            found = MisspeltFields.LINE.note(found, i % 2 == 0 ? "itemID" : "ITEM-ID");
        }

        assertThat(found.refusal(field -> false)).isEqualTo("item_id: is not a field; did you mean itemId?");
        assertThat(found.refusal(field -> field.equals("itemId")))
                .isEqualTo("referer: is not a field; did you mean referrer?");
        assertThat(found.refusal(field -> true)).isNull();
        // a predicate that cannot take null, as ingest's cannot: only the names noted are asked about
        assertThat(found.refusal(java.util.Set.of("itemId", "referrer")::contains)).isNull();
    }

    /** Spaces around a name count in its length: a name of the longest length looked at is still named. */
    @org.junit.jupiter.api.Test
    void aMisspellingOfTheLongestLengthLookedAtIsNamed() {
        String padded = " ".repeat(26) + "itemID";
        assertThat(padded).hasSize(32);
        assertThat(MisspeltFields.LINE.meant(padded)).isEqualTo("itemId");
        assertThat(MisspeltFields.LINE.meant(" " + padded)).isNull();
    }
}
