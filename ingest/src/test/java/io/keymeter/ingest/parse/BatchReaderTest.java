package io.keymeter.ingest.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BatchReaderTest {

    private final List<String> seen = new ArrayList<>();

    private final LineHandler recorder = new LineHandler() {
        @Override
        public void line(int line, RawLine raw) {
            seen.add(line + " ok " + raw.requestId() + (raw.typeError() == null ? "" : " " + raw.typeError()));
        }

        @Override
        public void unreadable(int line, String error) {
            seen.add(line + " " + error);
        }
    };

    private void read(String body, BatchFormat format) throws IOException {
        BatchReader.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), format, recorder);
    }

    @Test
    void ndjsonRecoversAtTheNextNewlineAndCountsBlankLines() throws IOException {
        read("{\"requestId\":\"a\"}\n{not json\n\n[1,2]\n{\"requestId\":\"b\"} trailing\r\n{\"requestId\":\"c\"}", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a", "2 " + BatchReader.NOT_JSON, "4 " + BatchReader.NOT_OBJECT,
                "5 " + BatchReader.NOT_JSON, "6 ok c");
    }

    /** A key sent as null is the client's none (a malformed key, as verify answers it); one left out stays absent. */
    @Test
    void aNullKeyIsReadAsAnEmptyOneAndAMissingOneAsAbsent() throws IOException {
        List<String> keys = new ArrayList<>();
        BatchReader.read(new ByteArrayInputStream("{\"apiKey\":null}\n{\"api_key\":\"k\"}\n".getBytes(StandardCharsets.UTF_8)),
                BatchFormat.NDJSON, new LineHandler() {
                    @Override
                    public void line(int line, RawLine raw) {
                        keys.add(raw.apiKey() + (raw.typeError() == null ? "" : " " + raw.typeError()));
                    }

                    @Override
                    public void unreadable(int line, String error) {
                        keys.add(error);
                    }
                });

        assertThat(keys).containsExactly("", "null api_key: is not a field; did you mean apiKey?");
    }

    /**
     * A field the line lacks, spelt another way, makes the line invalid saying which (a differential probe: {@code
     * itemID} was ignored and the request billed past its credential's item access; {@code referer} refused as if no
     * referrer were sent). Beside the field itself, or an unknown field that is no spelling of one, it is tolerated.
     */
    @Test
    void aMisspeltFieldTheLineLacksIsSaid() throws IOException {
        read("""
                {"requestId":"a","itemID":"i-1"}
                {"requestId":"b","referer":"https://a.example/","item_id":"i-1"}
                {"requestId":"c","Referrer":"https://a.example/","referrer":"https://b.example/"}
                {"requestId":"d","status":200,"gateway_id":"g","latency-ms":3,"TimeStamp":"2026-11-26T10:15:30Z"}
                {"requestId":"e","units":"2","itemID":"i-1"}
                {"requestId":"f","item.id":"i-1"}
                {"requestId":"g"," itemId":"i-1"}
                {"requestId":"h","itemId\\u0000":"i-1"}
                {"requestId":"i","itemId":null,"itemID":"i-1"}
                {"requestId":"j","unit":5}
                {"requestId":"k","itemId":"i-2","item.id":"i-1","item":"x","status":"ok"}
                """, BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a itemID: is not a field; did you mean itemId?",
                "2 ok b referer: is not a field; did you mean referrer?", "3 ok c",
                "4 ok d TimeStamp: is not a field; did you mean timestamp?", "5 ok e units: must be a positive integer",
                "6 ok f item.id: is not a field; did you mean itemId?", "7 ok g  itemId: is not a field; did you mean itemId?",
                "8 ok h itemId\u0000: is not a field; did you mean itemId?",
                "9 ok i itemID: is not a field; did you mean itemId?", "10 ok j unit: is not a field; did you mean units?",
                "11 ok k");
    }

    /**
     * Every name that spells a field another way is looked at, whatever the order of fields: only the first was, so a
     * {@code referer} beside its {@code referrer} (a header many gateways log) hid a later {@code item_id} and the
     * request was billed past its credential's item access, while the same fields with {@code item_id} first were
     * refused. The first such name of a field the line lacks is said.
     */
    @Test
    void everyMisspeltFieldIsLookedAtWhateverTheOrderOfFields() throws IOException {
        read("""
                {"requestId":"a","referrer":"https://a.example/","referer":"https://a.example/","item_id":"forbidden"}
                {"requestId":"b","item_id":"forbidden","referrer":"https://a.example/","referer":"https://a.example/"}
                {"requestId":"c","referer":"https://a.example/","item_id":"forbidden","referrer":"https://a.example/"}
                {"requestId":"d","referer":"https://a.example/","itemID":"i-1","item_id":"i-1"}
                {"requestId":"e","Referrer":"x","referer":"y","itemID":"i-1","itemId":"i-1","referrer":"z"}
                {"requestId":"f","itemID":"i-1","Unit":2,"units":null,"itemId":"i-1"}
                """, BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a item_id: is not a field; did you mean itemId?",
                "2 ok b item_id: is not a field; did you mean itemId?",
                "3 ok c item_id: is not a field; did you mean itemId?",
                "4 ok d referer: is not a field; did you mean referrer?", "5 ok e",
                "6 ok f Unit: is not a field; did you mean units?");
    }

    /**
     * A key given as null is the client's none (malformed-key) only when no other spelling of the field is sent: it
     * was read as empty before the misspelling was looked at, so {@code "apiKey":null,"api_key":"<key>"} was taken
     * (and then recorded as a malformed key, never billed) where {@code "itemId":null,"itemID"} is refused.
     */
    @Test
    void aMisspeltKeyBesideANullOneIsRefusedInEitherOrder() throws IOException {
        read("""
                {"requestId":"a","apiKey":null,"api_key":"km_1.secret"}
                {"requestId":"b","api_key":"km_1.secret","apiKey":null}
                {"requestId":"c","apiKey":"km_1.secret","api_key":"km_1.secret"}
                """, BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a api_key: is not a field; did you mean apiKey?",
                "2 ok b api_key: is not a field; did you mean apiKey?", "3 ok c");
    }

    /**
     * A UTF-16 or UTF-32 body without a declared charset (a Windows tool's "Unicode" log): cut at each 0A byte, its
     * first line was taken and every later one refused as not JSON (or every one, big-endian). Refused whole now, as
     * the shipper refuses such a file; declared (`charset=UTF-16`), it is read.
     */
    @ParameterizedTest
    @ValueSource(strings = {"UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE"})
    void aBodyInUtf16OrUtf32IsRefusedWhole(String charset) {
        byte[] body = "{\"requestId\":\"a\"}\n{\"requestId\":\"b\"}\n".getBytes(Charset.forName(charset));

        assertThatThrownBy(() -> BatchReader.read(new ByteArrayInputStream(body), BatchFormat.NDJSON, recorder))
                .isInstanceOf(BadBodyException.class).hasMessageStartingWith("body: is not UTF-8");
        assertThat(seen).isEmpty();
    }

    /**
     * NUL bytes at a body's start that are no UTF-16 or UTF-32 (what a crash or a copy-and-truncate rotation leaves in
     * a log file the shipper reads): a line error, and the lines after them taken. Refused whole, the shipper stopped
     * at that batch for good.
     */
    @Test
    void nulBytesThatAreNoUtf16AreALineErrorAndTheRestIsTaken() throws IOException {
        read("\0\0\0\0\0\0{\"requestId\":\"a\"}\n{\"requestId\":\"b\"}\n", BatchFormat.NDJSON);
        read("\0\0\n{\"requestId\":\"c\"}\n", BatchFormat.NDJSON);
        read("{\0\0\0\0\0\0\0\0\n{\"requestId\":\"d\"}\n", BatchFormat.NDJSON); // zeroed after a line's first byte

        assertThat(seen).containsExactly("1 " + BatchReader.NOT_JSON, "2 ok b", "1 " + BatchReader.NOT_JSON, "2 ok c",
                "1 " + BatchReader.NOT_JSON, "2 ok d");
        assertThat(BatchReader.notUtf8(new byte[] {'{', 0, '"', 0}, 4)).isTrue();
        assertThat(BatchReader.notUtf8(new byte[] {0, 0, 0, '{', 0, 0, 0, '"'}, 8)).isTrue();
        assertThat(BatchReader.notUtf8(new byte[] {0, 0, 0, '{', 0, 0, 0, 0}, 8)).isFalse();
        assertThat(BatchReader.notUtf8(new byte[] {'{', '"', 0, 0}, 4)).isFalse();
    }

    @Test
    void aByteOrderMarkStartsABodyWhateverFollowsIt() throws IOException {
        read("\uFEFF\n{\"requestId\":\"a\"}\n", BatchFormat.NDJSON);
        read("\uFEFF{\"requestId\":\"b\"}\n", BatchFormat.NDJSON);
        read("\uFEFF\r\n{\"requestId\":\"c\"}", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("2 ok a", "1 ok b", "2 ok c");
    }

    @Test
    void ndjsonReportsAnOverlongLineOnceAndGoesOn() throws IOException {
        String longLine = "{\"requestId\":\"" + "x".repeat(BatchReader.MAX_LINE_BYTES * 2) + "\"}";
        read("{\"requestId\":\"a\"}\n" + longLine + "\n{\"requestId\":\"b\"}\n", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a", "2 " + BatchReader.TOO_LONG, "3 ok b");
    }

    /** The mark is not part of line 1: counted in it, a line 3 bytes under the limit was refused as too long. */
    @Test
    void aByteOrderMarkDoesNotCountInTheFirstLinesLength() throws IOException {
        String prefix = "{\"requestId\":\"a\",\"pad\":\"";
        String atLimit = prefix + "x".repeat(BatchReader.MAX_LINE_BYTES - prefix.length() - 2) + "\"}";
        read("\uFEFF" + atLimit + "\n", BatchFormat.NDJSON);
        read("\uFEFF" + atLimit + "\r\n" + atLimit, BatchFormat.NDJSON);
        read("\uFEFF" + atLimit.replace("\"a\"", "\"bb\"") + "\n" + atLimit, BatchFormat.NDJSON);
        read("\uFEFF", BatchFormat.NDJSON);
        read("\uFEFF{", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a", "1 ok a", "2 ok a", "1 " + BatchReader.TOO_LONG, "2 ok a",
                "1 " + BatchReader.NOT_JSON);
    }

    @Test
    void aLineOfExactlyTheLimitIsReadWhateverItsLineEnd() throws IOException {
        String prefix = "{\"requestId\":\"a\",\"pad\":\"";
        String atLimit = prefix + "x".repeat(BatchReader.MAX_LINE_BYTES - prefix.length() - 2) + "\"}";
        assertThat(atLimit).hasSize(BatchReader.MAX_LINE_BYTES);
        String overLimit = atLimit.replace("\"a\"", "\"bb\"");
        read(atLimit + "\n" + atLimit + "\r\n" + overLimit + "\n" + atLimit + "\r\n" + overLimit + "\r\n" + atLimit,
                BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a", "2 ok a", "3 " + BatchReader.TOO_LONG, "4 ok a",
                "5 " + BatchReader.TOO_LONG, "6 ok a");
    }

    @Test
    void jsonTheReaderCannotTakeIsALineErrorInNdjsonAndRefusesAnArrayNamingTheElement() {
        String deep = "{\"requestId\":\"d\",\"extra\":" + "[".repeat(600) + "]".repeat(600) + "}";
        String longString = "{\"requestId\":\"" + "x".repeat(BatchReader.MAX_STRING_CHARS + 1) + "\"}";
        assertThatCode(() -> read("{\"requestId\":\"a\"}\n" + deep + "\n{\"requestId\":\"b\"}", BatchFormat.NDJSON))
                .doesNotThrowAnyException();
        assertThat(seen).containsExactly("1 ok a", "2 " + BatchReader.OVER_LIMITS, "3 ok b");

        // past such a token no element boundary can be found without reading it whole: the body is refused
        for (String element : new String[] {deep, longString}) {
            assertThatThrownBy(() -> read("[{\"requestId\":\"a\"}, " + element + "]", BatchFormat.JSON_ARRAY))
                    .isInstanceOf(BadBodyException.class)
                    .hasMessage("body: breaks a limit of the JSON reader in element 2 (" + BatchReader.PARSER_LIMITS
                            + "); nothing was taken");
        }
    }

    @Test
    void aLongStringInAnArrayElementIsThatElementsProblemNotTheBodys() throws IOException {
        // longer than any field takes and than an NDJSON line, still within what the reader holds: the validator's
        // line error ("requestId: must be 1-128 characters"), and the rest of the batch is taken
        String id = "x".repeat(70_000);
        read("[{\"requestId\":\"" + id + "\"}, {\"requestId\":\"b\"}]", BatchFormat.JSON_ARRAY);

        assertThat(seen).containsExactly("1 ok " + id, "2 ok b");
    }

    @Test
    void wrongTypesAreReportedByFieldAndUnknownFieldsIgnored() throws IOException {
        read("{\"requestId\":\"a\",\"units\":1.5,\"extra\":{\"x\":[1]}}\n{\"requestId\":\"b\",\"service\":7}\n",
                BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a units: must be a positive integer", "2 ok b service: must be a string");
    }

    /** A whole number beyond a long read "must be a positive integer" however positive it was. */
    @Test
    void unitsBeyondALongAreSaidToBeTooLargeNotNegative() throws IOException {
        read("{\"requestId\":\"a\",\"units\":99999999999999999999999}\n"
                + "{\"requestId\":\"b\",\"units\":-99999999999999999999999}\n", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a units: must be at most 2147483647",
                "2 ok b units: must be a positive integer");
    }

    /** The last of two values was billed: {"apiKey":K1,…,"apiKey":K2,"units":1,"units":5} went to K2 with 5 units. */
    @Test
    void aFieldGivenTwiceIsThatLinesErrorAndUnknownFieldsMayRepeat() throws IOException {
        read("{\"requestId\":\"a\",\"units\":1,\"units\":5}\n{\"requestId\":\"b\",\"x\":1,\"x\":2}\n"
                + "{\"requestId\":\"c\",\"apiKey\":\"k1\",\"service\":7,\"apiKey\":\"k2\"}\n", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a units: appears more than once", "2 ok b",
                "3 ok c service: must be a string");
    }

    @Test
    void arrayElementsCountAsLines() throws IOException {
        read("[{\"requestId\":\"a\"}, 5, {\"requestId\":\"b\"}]", BatchFormat.JSON_ARRAY);

        assertThat(seen).containsExactly("1 ok a", "2 " + BatchReader.NOT_OBJECT, "3 ok b");
    }

    @Test
    void aBrokenArrayRefusesTheBody() {
        assertThatThrownBy(() -> read("[{\"requestId\":\"a\"}, {\"requ", BatchFormat.JSON_ARRAY))
                .isInstanceOf(BadBodyException.class).hasMessageContaining("in element 2");
        assertThatThrownBy(() -> read("[{\"requestId\":\"a\"} {", BatchFormat.JSON_ARRAY))
                .isInstanceOf(BadBodyException.class).hasMessageContaining("after element 1");
        assertThatThrownBy(() -> read("{\"requestId\":\"a\"}", BatchFormat.JSON_ARRAY))
                .isInstanceOf(BadBodyException.class).hasMessageContaining("array");
    }

    @Test
    void bytesJacksonsDecoderRefusesAreABadBodyNotAStreamFailure() {
        // taken for UTF-32 (three zero bytes first), seven bytes long: Jackson's decoder throws CharConversionException
        byte[] body = {0, 0, 0, '[', 0, 0, 0};
        assertThatThrownBy(() -> BatchReader.read(new ByteArrayInputStream(body), BatchFormat.JSON_ARRAY, recorder))
                .isInstanceOf(BadBodyException.class);
    }

    @Test
    void aStreamFailingUnderAnArrayIsThatFailureNotBadJson() {
        IOException tooLarge = new IOException("the body is larger than 16 MiB");
        InputStream failing = new SequenceInputStream(
                new ByteArrayInputStream("[{\"requestId\":\"a\"}, ".getBytes(StandardCharsets.UTF_8)),
                new InputStream() {
                    @Override
                    public int read() throws IOException {
                        throw tooLarge;
                    }
                });
        // Jackson 3 wraps it in a JacksonException; a BadBodyException would answer 400 "not valid JSON" for a 413
        assertThatThrownBy(() -> BatchReader.read(failing, BatchFormat.JSON_ARRAY, recorder)).isSameAs(tooLarge);
        assertThat(seen).containsExactly("1 ok a");
    }

    private List<RawLine> rawLines(String body) throws IOException {
        List<RawLine> lines = new ArrayList<>();
        BatchReader.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), BatchFormat.NDJSON,
                new LineHandler() {
                    @Override
                    public void line(int line, RawLine raw) {
                        lines.add(raw);
                    }

                    @Override
                    public void unreadable(int line, String error) {
                        throw new AssertionError(line + " " + error);
                    }
                });
        return lines;
    }

    @Test
    void unitsAreReadAsTheNumberGiven() throws IOException {
        List<RawLine> lines = rawLines("{\"requestId\":\"a\",\"units\":5}\n{\"requestId\":\"b\",\"units\":"
                + Long.MAX_VALUE + "}\n{\"requestId\":\"c\"}");

        assertThat(lines).extracting(RawLine::units).containsExactly(5L, Long.MAX_VALUE, null);
    }

    /** A misspelt name is refused when the line lacks the field it means, whichever field; beside the field it is not. */
    @ParameterizedTest
    @CsvSource({"requestId,request_id,'\"r\"'", "apiKey,api_key,'\"k\"'", "service,SERVICE,'\"basemaps\"'",
            "operation,Operation,'\"tile\"'", "itemId,item_id,'\"i\"'", "referrer,referer,'\"https://x.test\"'",
            "timestamp,TimeStamp,'\"2026-11-26T10:00:00Z\"'", "units,Units,3"})
    void aMisspeltFieldIsRefusedOnlyWhenTheLineLacksTheFieldItMeans(String field, String misspelt, String value)
            throws IOException {
        RawLine without = rawLines("{\"" + misspelt + "\":" + value + "}").get(0);
        assertThat(without.typeError()).isEqualTo(misspelt + ": is not a field; did you mean " + field + "?");

        RawLine beside = rawLines("{\"" + misspelt + "\":" + value + ",\"" + field + "\":" + value + "}").get(0);
        assertThat(beside.typeError()).isNull();
    }

    /** The length of a line is its own, wherever it starts in the reader's buffer. */
    @Test
    void aLongLineAfterAShortOneIsMeasuredFromItsOwnStart() throws IOException {
        String first = "{\"requestId\":\"a\"}";
        String prefix = "{\"requestId\":\"b\",\"pad\":\"";
        String nearLimit = prefix + "x".repeat(BatchReader.MAX_LINE_BYTES - 20 - prefix.length() - 2) + "\"}";
        read(first + "\n" + nearLimit + "\n", BatchFormat.NDJSON);

        assertThat(seen).containsExactly("1 ok a", "2 ok b");
    }
}
