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
}
