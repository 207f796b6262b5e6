package io.keymeter.metering.enforcement;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.Json;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSerdes;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestLogReaderTest {

    private static final String TOPIC = "keymeter.requests";
    private static final String USUAL = """
            {"requestId":"r-1","keyId":"km_1","secretHash":"ab12","service":"basemaps","operation":"tile","units":3,\
            "timestamp":"2026-11-29T14:00:00.123Z"}""";

    private final Deserializer<RequestLog> databind = Topics.REQUESTS.valueSerde().deserializer();
    private final RequestLogReader reader = new RequestLogReader(databind, true);

    @Test
    void readsEveryFieldOfTheRecordWithoutTheFallback() throws Exception {
        // every component set to a value of its own: a field added to RequestLog and not to the reader fails here
        RecordComponent[] components = RequestLog.class.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = types[i] == String.class ? components[i].getName() + "-value"
                    : types[i] == long.class ? 40L + i
                    : types[i] == Instant.class ? Instant.parse("2026-11-29T14:00:00.123Z") : null;
            assertThat(values[i]).as("a test value for " + components[i]).isNotNull();
        }
        RequestLog full = RequestLog.class.getDeclaredConstructor(types).newInstance(values);

        assertThat(RequestLogReader.readFlat(Json.mapper().writeValueAsBytes(full))).isEqualTo(full);
    }

    @Test
    void theUsualShapeTakesTheFastPath() {
        assertThat(RequestLogReader.readFlat(bytes(USUAL))).isEqualTo(databind.deserialize(TOPIC, bytes(USUAL)));
        assertThat(RequestLogReader.readFlat(bytes(USUAL.replace("\"units\":3", "\"units\":\"3\"")))).isNull();
        assertThat(RequestLogReader.readFlat(bytes(USUAL.replace("\"units\":3,", "")))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            USUAL,
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00.1Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00.123456Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00.123456789Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00.Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T14:00:00+01:00\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29t14:00:00z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-02-30T00:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-13-01T00:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-06-30T23:59:60Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-11-29T24:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"+12026-11-29T14:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":\"2026-1a-29T14:00:00Z\"}",
            "{\"requestId\":\"r\",\"timestamp\":1764424800}",
            "{\"requestId\":\"r\",\"timestamp\":1764424800.5}",
            "{\"requestId\":\"r\",\"timestamp\":\"\"}",
            "{\"requestId\":\"r\",\"timestamp\":null}",
            "{\"requestId\":\"r\",\"units\":\"3\"}",
            "{\"requestId\":\"r\",\"units\":3.7}",
            "{\"requestId\":\"r\",\"units\":null}",
            "{\"requestId\":\"r\",\"units\":-2}",
            "{\"requestId\":\"r\",\"units\":99999999999999999999999}",
            "{\"requestId\":\"r\",\"units\":true}",
            "{\"requestId\":123,\"keyId\":true}",
            "{\"requestId\":\"r\",\"requestId\":\"s\"}",
            "{\"requestId\":\"r\",\"units\":1,\"units\":2,\"timestamp\":\"2026-11-29T14:00:00Z\",\"timestamp\":null}",
            "{\"requestId\":\"r\",\"units\":1,\"timestamp\":null,\"timestamp\":\"2026-11-29T14:00:00Z\",\"units\":\"2\"}",
            "{\"requestId\":\"r\",\"extra\":{\"a\":[1,{\"b\":2}]},\"more\":[1,2],\"flag\":false,\"keyId\":\"k\"}",
            "{\"requestId\":\"\\u0041b\\\"c\",\"referrer\":\"https://zürich.example.com/\",\"itemId\":null}",
            "{\"req\\u0075estId\":\"escaped name\"}",
            "{}",
            "{\"requestId\":\"r\"} {\"requestId\":\"s\"}",
            "[]",
            "\"request\"",
            "null",
            "",
            "{\"requestId\":",
            "{\"requestId\":\"r\",}",
            "not json"})
    void answersWhatTheTopicsSerdeAnswers(String json) {
        assertSameAnswer(json);
        if (json.startsWith("{\"") && !json.contains("units")) {
            // the mapper refuses a request without units: with them, the same case reaches the fast path
            assertSameAnswer("{\"units\":1," + json.substring(1));
        }
    }

    private void assertSameAnswer(String json) {
        Object expected = outcome(() -> databind.deserialize(TOPIC, bytes(json)));
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).isEqualTo(expected);
    }

    /**
     * A gateway producing straight to the topic had {@code "units":2.5} billed as 2 units, {@code "units":"5"} as 5
     * and a repeated field by its last value, where ingest refuses each line: now each is unreadable (a dead letter).
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"units\":2.5", "\"units\":\"5\"", "\"units\":3,\"units\":4",
            "\"units\":3,\"requestId\":\"r-2\""})
    void aRequestIngestWouldRefuseForItsJsonIsUnreadable(String units) {
        String json = USUAL.replace("\"units\":3", units);
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                .startsWith("SerializationException: cannot read RequestLog");
    }

    /**
     * A request padded with a field nobody reads, compressed by its producer, passes the broker's limit (on the batch
     * after compression) however large: copied on into the join buffer, it failed the producer's limit (before
     * compression) and stopped metering. Ingest takes no line over 64 KiB; neither does the topic's read now.
     */
    @Test
    void aRecordOverIngestsLineLimitIsUnreadable() {
        String over = USUAL.replace("\"units\":3", "\"units\":3,\"pad\":\"" + "x".repeat(2_000_000) + "\"");
        assertThat(outcome(() -> reader.read(TOPIC, bytes(over)))).asString()
                .startsWith("SerializationException: cannot read RequestLog").contains("2000");
        String padding = "x".repeat(RequestLog.MAX_JSON_BYTES - bytes(USUAL).length - ",\"pad\":\"\"".length());
        String atTheLimit = USUAL.replace("\"units\":3", "\"units\":3,\"pad\":\"" + padding + "\"");
        assertThat(bytes(atTheLimit)).hasSize(RequestLog.MAX_JSON_BYTES);
        assertThat(reader.read(TOPIC, bytes(atTheLimit)).units()).isEqualTo(3);
    }

    /**
     * A number or a boolean where the record has text: ingest and verify refuse it ("must be a string"), and the read
     * took {@code "requestId":1234} as "1234" and {@code "itemId":42} as "42", judged and billed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"requestId\":\"r-1\"|\"requestId\":1234", "\"units\":3|\"units\":3,\"itemId\":42",
            "\"operation\":\"tile\"|\"operation\":true", "\"service\":\"basemaps\"|\"service\":7.5"})
    void aNumberOrABooleanForTextMakesTheRecordUnreadable(String replacement) {
        String[] parts = replacement.split("\\|");
        String json = USUAL.replace(parts[0], parts[1]);
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                .startsWith("SerializationException: cannot read RequestLog");
    }

    /**
     * A producer's {@code itemID} let a request past its credential's item access (read as none sent, billed) and its
     * {@code referer} refused one as if no referrer were sent: a field the record lacks, spelt another way, makes it
     * unreadable (a dead letter saying which), in the usual shape or not. Beside the field itself, or an unknown field
     * that is no spelling of one, it is tolerated as before.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"itemID\":\"i-1\"", "\"item_id\":\"i-1\"", "\"referer\":\"https://a.example/\"",
            "\"Referrer\":\"https://a.example/\"", "\"itemID\":\"i-1\",\"units\":\"3\"", "\"item.id\":\"i-1\""})
    void aMisspeltFieldTheRecordLacksMakesItUnreadable(String field) {
        String json = USUAL.replace("\"units\":3,", field.contains("units") ? field + "," : "\"units\":3," + field + ",");
        String name = field.substring(1, field.indexOf('"', 1));
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                .isEqualTo("SerializationException: request " + name + ": is not a field; did you mean "
                        + (name.toLowerCase().startsWith("item") ? "itemId" : "referrer") + "?");
        String besideIt = USUAL.replace("\"units\":3,", "\"units\":3,\"itemId\":\"i-2\",\"referrer\":\"https://b.example/\","
                + field.replace(",\"units\":\"3\"", "") + ",");
        assertThat(reader.read(TOPIC, bytes(besideIt)).itemId()).isEqualTo("i-2");
        assertThat(reader.read(TOPIC, bytes(USUAL.replace("\"units\":3,", "\"units\":3,\"status\":200,\"gateway_id\":\"g\","))))
                .isEqualTo(databind.deserialize(TOPIC, bytes(USUAL)));
        // what a store kept reads back as it was taken
        assertThat(new RequestLogReader(databind, false).read(TOPIC, bytes(json.replace("\"units\":\"3\"", "\"units\":3")))
                .itemId()).isNull();
    }

    /** A field given as null counts as absent: a misspelling beside it is refused, in the usual shape or not. */
    @ParameterizedTest
    @ValueSource(strings = {"\"units\":3", "\"units\":\"3\""})
    void aMisspeltFieldBesideANullOneMakesTheRecordUnreadable(String units) {
        String json = USUAL.replace("\"units\":3,", units + ",\"itemId\":null,\"itemID\":\"i-1\",");
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                .isEqualTo("SerializationException: request itemID: is not a field; did you mean itemId?");
    }

    /**
     * Every name that spells a field another way is looked at, whatever the order of fields, as ingest does: only the
     * first was, so a {@code referer} beside its {@code referrer} hid a later {@code item_id} (billed past the
     * credential's item access) while the same fields with {@code item_id} first were refused.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"units\":3", "\"units\":\"3\""})
    void everyMisspeltFieldIsLookedAtWhateverTheOrderOfFields(String units) {
        String referrers = "\"referrer\":\"https://a.example/\",\"referer\":\"https://a.example/\",";
        String itemId = "\"item_id\":\"forbidden\",";
        for (String fields : new String[] {referrers + itemId, itemId + referrers,
                "\"referer\":\"x\"," + itemId + "\"referrer\":\"y\","}) {
            String json = USUAL.replace("\"units\":3,", units + "," + fields);
            assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                    .isEqualTo("SerializationException: request item_id: is not a field; did you mean itemId?");
        }
        String both = USUAL.replace("\"units\":3,",
                units + ",\"referer\":\"x\",\"itemID\":\"i-1\",\"item_id\":\"i-1\",");
        assertThat(outcome(() -> reader.read(TOPIC, bytes(both)))).as(both).asString()
                .isEqualTo("SerializationException: request referer: is not a field; did you mean referrer?");
        String beside = USUAL.replace("\"units\":3,",
                "\"units\":3," + referrers + "\"item_id\":\"i-2\",\"itemId\":\"i-2\",");
        assertThat(reader.read(TOPIC, bytes(beside)).itemId()).isEqualTo("i-2");
    }

    /**
     * A name given twice that the request does not read, at the top or inside an unknown field: the usual shape was
     * billed, the same record with its time in another form dead-lettered by the strict serde. Now the reader
     * answers as that serde does in either form (refused, with its reason); the join buffer, which holds what an
     * earlier version took, still reads such a request.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"status\":200,\"status\":201", "\"meta\":{\"a\":1,\"a\":2}",
            "\"itemID\":\"i-1\",\"itemID\":\"i-1\",\"itemId\":\"i-1\""})
    void aNameGivenTwiceIsAnsweredAsTheTopicsSerdeAnswersIt(String fields) {
        String json = USUAL.replace("\"units\":3,", "\"units\":3," + fields + ",");
        assertSameAnswer(json);
        assertSameAnswer(json.replace("14:00:00.123Z", "15:00:00.123+01:00"));
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).asString().startsWith("SerializationException");
        assertThat(MeteringSerdes.BUFFERED_REQUEST.deserializer().deserialize(TOPIC, bytes(json)).log().units())
                .isEqualTo(3);
    }

    /**
     * The join buffer holds requests an earlier version took, which the strict read now refuses: read back strictly
     * on every start (outside the dead-letter handlers), one such request waiting across an upgrade failed the task
     * for good. The buffer's serde reads them as they were taken.
     */
    @Test
    void aRequestAnEarlierVersionBufferedIsStillReadFromTheBuffer() {
        byte[] lenient = bytes(USUAL.replace("\"units\":3", "\"units\":\"5\""));
        assertThat(outcome(() -> MeteringSerdes.ARRIVED_REQUEST.deserializer().deserialize(TOPIC, lenient).log()))
                .asString().startsWith("SerializationException");
        assertThat(MeteringSerdes.BUFFERED_REQUEST.deserializer().deserialize(TOPIC, lenient).log().units())
                .isEqualTo(5);
    }

    /**
     * What the topic's read takes, the buffer's read takes as the same request: the buffer is read back on every start
     * (outside the dead-letter handlers), so a request the topic's read took and the buffer's refused would fail the
     * task for good. A leap second written with an offset is read by Keymeter's RFC 3339 reader and not by Jackson's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"1990-12-31T15:59:60-08:00", "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5+00:00",
            "2026-11-29T15:00:00.5+01:00", "2026-11-29t14:00:00z"})
    void whatTheTopicsReadTakesTheBuffersReadTakesAlike(String time) {
        byte[] json = bytes(USUAL.replace("2026-11-29T14:00:00.123Z", time));
        RequestLog topic = MeteringSerdes.ARRIVED_REQUEST.deserializer().deserialize(TOPIC, json).log();
        assertThat(MeteringSerdes.BUFFERED_REQUEST.deserializer().deserialize(TOPIC, json).log()).isEqualTo(topic);
    }

    /** A time only as an RFC 3339 string, as ingest takes it: epoch seconds and T24:00:00Z were read as times. */
    @ParameterizedTest
    @ValueSource(strings = {"1764424800", "\"1764424800\"", "\"2026-11-29T24:00:00Z\"", "\"2026-11-29T14:00:00.Z\""})
    void aTimeThatIsNotRfc3339IsUnreadable(String time) {
        String json = USUAL.replace("\"2026-11-29T14:00:00.123Z\"", time);
        assertThat(outcome(() -> reader.read(TOPIC, bytes(json)))).as(json).asString()
                .startsWith("SerializationException: cannot read RequestLog");
        assertThat(reader.read(TOPIC, bytes(USUAL.replace("14:00:00.123Z", "15:00:00.5+01:00"))).timestamp())
                .isEqualTo(Instant.parse("2026-11-29T14:00:00.5Z"));
    }

    @Test
    void nullStaysNull() {
        assertThat(reader.read(TOPIC, null)).isNull();
    }

    private static Object outcome(Supplier<RequestLog> read) {
        try {
            return read.get();
        } catch (SerializationException e) {
            return "SerializationException: " + e.getMessage();
        }
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
