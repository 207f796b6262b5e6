package io.keymeter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class JsonSerdeTest {

    @Test
    void credentialEventsCarryTheirTypeAndRoundTrip() {
        CredentialEvent event = new CredentialEvent.KeyInvalidated("e1", "c1", "acme", 3,
                Instant.parse("2026-11-26T10:15:30Z"), 1, "k1", "privileges-changed");

        byte[] bytes = Topics.CREDENTIAL_EVENTS.valueSerde().serializer().serialize("t", event);

        assertThat(new String(bytes, StandardCharsets.UTF_8))
                .contains("\"type\":\"key-invalidated\"")
                .contains("\"at\":\"2026-11-26T10:15:30Z\"");
        assertThat(Topics.CREDENTIAL_EVENTS.valueSerde().deserializer().deserialize("t", bytes)).isEqualTo(event);
        assertThat(CredentialEvent.typeOf(event)).isEqualTo("key-invalidated");
    }

    @Test
    void moneyIsADecimalStringAndDaysAreIsoDates() {
        Statement statement = new Statement("s1", "acme", "2026-11", "final", Instant.parse("2026-12-01T01:00:00Z"),
                "USD", List.of(new StatementLine("geocoding", 10, 2000, 1000, 1000, new BigDecimal("0.50"),
                new BigDecimal("0.50"))), new BigDecimal("0.50"));
        UsageDaily usage = new UsageDaily("acme", "c1", "geocoding", LocalDate.parse("2026-11-26"), 1, 5);

        String statementJson = new String(Topics.BILLING_STATEMENTS.valueSerde().serializer().serialize("t", statement),
                StandardCharsets.UTF_8);
        String usageJson = new String(Topics.USAGE_DAILY.valueSerde().serializer().serialize("t", usage),
                StandardCharsets.UTF_8);

        assertThat(Topics.BILLING_STATEMENTS.valueSerde().deserializer()
                .deserialize("t", statementJson.getBytes(StandardCharsets.UTF_8))).isEqualTo(statement);
        assertThat(usageJson).contains("\"date\":\"2026-11-26\"");
        assertThat(statementJson).contains("\"amountDue\":\"0.50\"");
        assertThat(usage.key()).isEqualTo("acme/c1/geocoding/2026-11-26");
    }

    @Test
    void keyStatusAndReasonsAreWrittenAsTheirContractCodes() {
        ApiKeyState state = new ApiKeyState("k", "c", "a", 1, KeyStatus.INVALIDATED, Instant.EPOCH, "h",
                List.of("premium:user:geocode"), null, null, Instant.EPOCH);
        String json = new String(Topics.API_KEYS.valueSerde().serializer().serialize("t", state), StandardCharsets.UTF_8);

        assertThat(json).contains("\"status\":\"invalidated\"");
        assertThat(RejectionReason.SERVICE_NOT_PERMITTED.code()).isEqualTo("service-not-permitted");
        assertThat(RejectionReason.fromCode("malformed-key")).isEqualTo(RejectionReason.MALFORMED_KEY);
    }

    /**
     * Metering bills a key's accepted usage to the account and credential of its state: an active state written
     * without them (by another producer) is refused as unreadable, not read as a key that bills nobody.
     */
    @Test
    void aKeyStateWithoutTheIdsUsageIsBilledToIsUnreadable() {
        String complete = "{\"keyId\":\"k\",\"credentialId\":\"c\",\"accountId\":\"a\",\"slot\":1,\"status\":\"active\","
                + "\"expiresAt\":\"2027-01-01T00:00:00Z\",\"secretHash\":\"h\",\"updatedAt\":\"2026-12-01T00:00:00Z\"}";
        assertThat(readKeyState(complete)).extracting(ApiKeyState::accountId, ApiKeyState::credentialId)
                .containsExactly("a", "c");

        assertThatThrownBy(() -> readKeyState(complete.replace("\"accountId\":\"a\",", "")))
                .isInstanceOf(SerializationException.class)
                .hasMessage("cannot read ApiKeyState from keymeter.api-keys: no accountId");
        assertThatThrownBy(() -> readKeyState(complete.replace("\"accountId\":\"a\"", "\"accountId\":\"\"")))
                .hasMessage("cannot read ApiKeyState from keymeter.api-keys: no accountId");
        assertThatThrownBy(() -> readKeyState(complete.replace("\"credentialId\":\"c\",", "")))
                .hasMessage("cannot read ApiKeyState from keymeter.api-keys: no credentialId");
        // a state that accepts nothing bills nobody: an invalidation without them still kills the key
        assertThat(readKeyState(complete.replace("\"accountId\":\"a\",", "").replace("\"credentialId\":\"c\",", "")
                .replace("active", "invalidated"))).extracting(ApiKeyState::status).isEqualTo(KeyStatus.INVALIDATED);
        assertThat(Topics.API_KEYS.valueSerde().deserializer().deserialize("keymeter.api-keys", null))
                .as("a tombstone").isNull();
    }

    private static ApiKeyState readKeyState(String json) {
        return Topics.API_KEYS.valueSerde().deserializer().deserialize("keymeter.api-keys",
                json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void unreadableBytesFailWithoutEchoingThePayload() {
        byte[] garbage = "{\"apiKey\":\"km_secretstuff\"".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Topics.REQUESTS.valueSerde().deserializer().deserialize("keymeter.requests", garbage))
                .isInstanceOf(SerializationException.class)
                .hasMessageNotContaining("km_secretstuff");
    }

    /**
     * Jackson's message quotes the text it could not take: a key pasted unquoted into a field, or a wrong-typed
     * value, went into the log and the dead letter's headers. The message names the kind, the field and the place.
     */
    @Test
    void aValueJacksonCannotTakeIsNamedByItsFieldNotQuoted() {
        String key = "km_AbCdEf0123456789_SECRETsecretSECRETsecret0123456";
        byte[] unquoted = ("{\"requestId\":\"r\",\"keyId\":\"AbCdEf0123456789\",\"secretHash\":" + key + "}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] wrongType = "{\"requestId\":\"r\",\"units\":\"SECRETsecret\"}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Topics.REQUESTS.valueSerde().deserializer().deserialize("keymeter.requests", unquoted))
                .isInstanceOf(SerializationException.class)
                .hasMessageStartingWith("cannot read RequestLog from keymeter.requests: ")
                .hasMessageContaining("(line 1, column ")
                .hasMessageNotContaining("km_").hasMessageNotContaining("SECRET");
        assertThatThrownBy(() -> Topics.REQUESTS.valueSerde().deserializer().deserialize("keymeter.requests", wrongType))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining(" at units ")
                .hasMessageNotContaining("SECRET");
    }
}
