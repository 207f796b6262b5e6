package io.keymeter.ingest.parse;

import io.keymeter.events.MisspeltFields;
import io.keymeter.events.RequestLog;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.json.JsonFactory;

/**
 * Reads a batch of request-log lines as a stream with Jackson's streaming parser: nothing is ever held as a tree
 * and memory stays bounded whatever the body size: an NDJSON line is at most {@link #MAX_LINE_BYTES} long, and a
 * string in a JSON array element at most {@link #MAX_STRING_CHARS} (Jackson's default allowed 100M characters, so
 * one element of a gzip array could make the parser buffer hundreds of megabytes). A longer string than a field
 * allows, within that, is the line error of its field, as in NDJSON; past it the body is refused.
 * <p>
 * NDJSON is cut into lines first (so a line that is not JSON is reported and the next line is read as usual); each
 * line is then parsed on its own. A JSON array is read with one parser: an element that is not an object is a line
 * error, but a syntax error ends the body ({@link BadBodyException}) because no element boundary can be trusted
 * after it.
 */
public final class BatchReader {

    /** Longest NDJSON line accepted; a longer one is a line error. Request-log lines are a few hundred bytes. */
    public static final int MAX_LINE_BYTES = RequestLog.MAX_JSON_BYTES;

    static final String NOT_JSON = "line: is not valid JSON";
    static final String NOT_OBJECT = "line: must be a JSON object";
    static final String TOO_LONG = "line: is longer than " + MAX_LINE_BYTES + " bytes";
    static final String NOT_UTF8 = "body: is not UTF-8 (UTF-16 or UTF-32: a byte order mark, or NUL bytes between its"
            + " first characters);"
            + " send it as UTF-8, or declare its charset in Content-Type; nothing of it was taken";
    /** Longest string the reader holds: no field takes more than 2,048 characters, so this only bounds memory. */
    static final int MAX_STRING_CHARS = 1024 * 1024;
    static final String PARSER_LIMITS = "strings up to " + MAX_STRING_CHARS + " characters, numbers up to "
            + StreamReadConstraints.DEFAULT_MAX_NUM_LEN + " digits, names up to "
            + StreamReadConstraints.DEFAULT_MAX_NAME_LEN + " characters, nesting up to "
            + StreamReadConstraints.DEFAULT_MAX_DEPTH + " levels";
    static final String OVER_LIMITS = "line: breaks a limit of the JSON reader (" + PARSER_LIMITS + ")";

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_STRING_CHARS).build())
            .build();

    private BatchReader() {
    }

    /** Reads every line of the body and hands it to the handler; IO errors of the stream propagate. */
    public static void read(InputStream body, BatchFormat format, LineHandler handler) throws IOException {
        if (format == BatchFormat.NDJSON) {
            readNdjson(body, handler);
        } else {
            readArray(body, handler);
        }
    }

    /**
     * Whether a body or file whose first {@code length} bytes are {@code head} is UTF-16 or UTF-32 (a Windows tool's
     * "Unicode" log): a byte order mark FF FE or FE FF (00 00 FE FF for UTF-32BE), or text in the byte pattern those
     * encodings give ASCII: x 00 y 00 or 00 x 00 y, and for UTF-32 two characters, x 00 00 00 y 00 00 00 or
     * 00 00 00 x 00 00 00 y. Read as UTF-8 lines, such a body had its first line taken and the rest refused. Not any
     * NUL: a run of them, left by a crash or a copy-and-truncate rotation in a log file (after a line's first byte,
     * too), is a line error, and refusing the whole batch stopped the shipper at it for good.
     */
    public static boolean notUtf8(byte[] head, int length) {
        if (length >= 2 && ((head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xfe
                || (head[0] & 0xff) == 0xfe && (head[1] & 0xff) == 0xff)) {
            return true;
        }
        if (length >= 4 && head[0] == 0 && head[1] == 0 && (head[2] & 0xff) == 0xfe && (head[3] & 0xff) == 0xff) {
            return true; // the UTF-32BE mark
        }
        return length >= 4 && (utf16(head, 0, 1) || utf16(head, 1, 0))
                || length >= 8 && (utf32(head, 0, 0) && utf32(head, 4, 0) || utf32(head, 0, 3) && utf32(head, 4, 3));
    }

    /** An ASCII character in UTF-16 twice: its byte at {@code text}, the NUL at {@code nul}, in two 2-byte units. */
    private static boolean utf16(byte[] head, int text, int nul) {
        return head[text] != 0 && head[nul] == 0 && head[text + 2] != 0 && head[nul + 2] == 0;
    }

    /** An ASCII character in the 4-byte unit at {@code unit}: its byte at offset {@code text}, NULs elsewhere. */
    private static boolean utf32(byte[] head, int unit, int text) {
        for (int i = 0; i < 4; i++) {
            if ((head[unit + i] != 0) != (i == text)) {
                return false;
            }
        }
        return true;
    }

    private static void readNdjson(InputStream body, LineHandler handler) throws IOException {
        byte[] buf = new byte[MAX_LINE_BYTES + 2]; // the longest line and its CRLF
        int end = body.readNBytes(buf, 0, 8);
        if (notUtf8(buf, end)) {
            throw new BadBodyException(NOT_UTF8);
        }
        // a UTF-8 byte order mark is skipped before lines are read: Jackson skips one only when four bytes follow (BOM +
        // blank line failed), and counted in line 1 it refused a line 3 bytes under the limit as too long
        boolean bom = end >= 3 && buf[0] == (byte) 0xEF && buf[1] == (byte) 0xBB && buf[2] == (byte) 0xBF;
        int start = bom ? 3 : 0;
        int scan = start;
        int line = 0;
        boolean skipping = false;
        while (true) {
            int newline = indexOf(buf, scan, end);
            if (newline >= 0) {
                line++;
                if (skipping) {
                    skipping = false;
                } else {
                    ndjsonLine(buf, start, newline, line, handler);
                }
                start = newline + 1;
                scan = start;
                continue;
            }
            if (start == 0 && end == buf.length) {
                // a full buffer without a newline: report the line once, then drop bytes up to its end
                if (!skipping) {
                    handler.unreadable(line + 1, TOO_LONG);
                    skipping = true;
                }
                end = 0;
            } else if (start > 0) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            scan = end;
            int n = body.read(buf, end, buf.length - end);
            if (n < 0) {
                if (!skipping && end > start) {
                    ndjsonLine(buf, start, end, line + 1, handler);
                }
                return;
            }
            end += n;
        }
    }

    private static void ndjsonLine(byte[] buf, int from, int to, int line, LineHandler handler) {
        if (to - from - (to > from && buf[to - 1] == '\r' ? 1 : 0) > MAX_LINE_BYTES) {
            handler.unreadable(line, TOO_LONG);
            return;
        }
        while (from < to && isWhitespace(buf[from])) {
            from++;
        }
        while (to > from && isWhitespace(buf[to - 1])) {
            to--;
        }
        if (from == to) {
            return; // blank lines are counted but carry nothing
        }
        RawLine raw;
        String error = null;
        try (JsonParser parser = FACTORY.createParser(ObjectReadContext.empty(), buf, from, to - from)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                error = NOT_OBJECT;
                raw = null;
            } else {
                raw = readObject(parser);
                if (parser.nextToken() != null) {
                    error = NOT_JSON;
                }
            }
        } catch (StreamConstraintsException e) {
            error = OVER_LIMITS; // valid JSON, maybe, but deeper or longer than this reader takes
            raw = null;
        } catch (JacksonException e) {
            // never e.getMessage(): it quotes the input, which may hold a key
            error = NOT_JSON;
            raw = null;
        }
        if (error != null) {
            handler.unreadable(line, error);
        } else {
            handler.line(line, raw);
        }
    }

    private static void readArray(InputStream body, LineHandler handler) throws IOException {
        int line = 0;
        boolean inElement = false;
        try (JsonParser parser = FACTORY.createParser(ObjectReadContext.empty(), body)) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_ARRAY) {
                throw new BadBodyException("body: must be a JSON array of request-log lines");
            }
            JsonToken token;
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (token == null) {
                    throw new BadBodyException("body: the JSON array is not closed");
                }
                line++;
                inElement = true;
                if (token == JsonToken.START_OBJECT) {
                    RawLine raw = readObject(parser);
                    inElement = false;
                    handler.line(line, raw);
                } else {
                    parser.skipChildren();
                    inElement = false;
                    handler.unreadable(line, NOT_OBJECT);
                }
            }
            if (parser.nextToken() != null) {
                throw new BadBodyException("body: unexpected content after the JSON array");
            }
        } catch (JacksonException e) {
            if (e.getCause() instanceof IOException io && !(io instanceof CharConversionException)) {
                // the stream failed, not the JSON (Jackson 3 wraps it): too large (413) or bad gzip, as for NDJSON.
                // A CharConversionException is Jackson's own decoder refusing the bytes (UTF-32): bad JSON, a 400
                throw io;
            }
            String where = inElement ? "in element " + line : "after element " + line;
            if (e instanceof StreamConstraintsException) {
                // no element boundary can be found past it without reading it: the body, as for bad JSON
                throw new BadBodyException("body: breaks a limit of the JSON reader " + where + " (" + PARSER_LIMITS
                        + "); nothing was taken");
            }
            throw new BadBodyException("body: is not valid JSON " + where + "; nothing was taken");
        }
    }

    /** Reads the fields of one object; the parser is on its START_OBJECT and is left on its END_OBJECT. */
    static RawLine readObject(JsonParser parser) {
        String requestId = null;
        String apiKey = null;
        boolean nullKey = false; // apiKey given as null: read as "" once misspellings are looked at
        String service = null;
        String operation = null;
        Long units = null;
        String itemId = null;
        String referrer = null;
        String timestamp = null;
        String typeError = null;
        MisspeltFields.Found misspelt = null; // names that spell a field another way (itemID, referer)
        int seen = 0; // one bit per field read: a field given twice is refused, not billed by its last value
        String name;
        while ((name = parser.nextName()) != null) {
            JsonToken value = parser.nextToken();
            int bit;
            switch (name) {
                case "requestId" -> { requestId = string(parser, value); bit = 1; }
                // a key sent as null is the client's none, as verify answers it (malformed-key); only a line without
                // the field (a misspelt name, tolerated as unknown) is refused
                case "apiKey" -> { apiKey = string(parser, value); nullKey = value == JsonToken.VALUE_NULL; bit = 2; }
                case "service" -> { service = string(parser, value); bit = 4; }
                case "operation" -> { operation = string(parser, value); bit = 8; }
                case "itemId" -> { itemId = string(parser, value); bit = 16; }
                case "referrer" -> { referrer = string(parser, value); bit = 32; }
                case "timestamp" -> { timestamp = string(parser, value); bit = 64; }
                case "units" -> { units = integer(parser, value); bit = 128; }
                default -> {
                    // unknown fields are tolerated: gateways may send more than Keymeter reads
                    misspelt = MisspeltFields.LINE.note(misspelt, name);
                    parser.skipChildren();
                    continue;
                }
            }
            if ((seen & bit) != 0 && typeError == null) {
                typeError = name + ": appears more than once";
            }
            seen |= bit;
            if (typeError == null && isWrongType(name, value, parser)) {
                typeError = name + ("units".equals(name) ? ": " + unitsTaken(value, parser) : ": must be a string");
            }
        }
        if (misspelt != null && typeError == null) {
            // a field given as null is absent: its key too, before it is read as ""
            int given = (requestId != null ? 1 : 0) | (apiKey != null ? 2 : 0) | (service != null ? 4 : 0)
                    | (operation != null ? 8 : 0) | (itemId != null ? 16 : 0) | (referrer != null ? 32 : 0)
                    | (timestamp != null ? 64 : 0) | (units != null ? 128 : 0);
            typeError = misspelt.refusal(field -> (given & bit(field)) != 0);
        }
        if (nullKey) {
            apiKey = "";
        }
        return new RawLine(requestId, apiKey, service, operation, units, itemId, referrer, timestamp, typeError);
    }

    /** The field's bit in readObject's {@code seen}. */
    private static int bit(String field) {
        return switch (field) {
            case "requestId" -> 1;
            case "apiKey" -> 2;
            case "service" -> 4;
            case "operation" -> 8;
            case "itemId" -> 16;
            case "referrer" -> 32;
            case "timestamp" -> 64;
            default -> 128; // units
        };
    }

    private static String string(JsonParser parser, JsonToken value) {
        if (value == JsonToken.VALUE_STRING) {
            return parser.getString();
        }
        parser.skipChildren();
        return null;
    }

    private static Long integer(JsonParser parser, JsonToken value) {
        if (value == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
            return parser.getLongValue();
        }
        parser.skipChildren();
        return null;
    }

    /** What units takes, said of a value of the wrong type: 10^23 read "must be a positive integer". */
    private static String unitsTaken(JsonToken value, JsonParser parser) {
        return value == JsonToken.VALUE_NUMBER_INT && parser.getBigIntegerValue().signum() > 0
                ? "must be at most " + RequestLog.MAX_UNITS : "must be a positive integer";
    }

    private static boolean isWrongType(String name, JsonToken value, JsonParser parser) {
        if (value == JsonToken.VALUE_NULL) {
            return false; // null is the same as absent
        }
        if ("units".equals(name)) {
            return value != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER;
        }
        return value != JsonToken.VALUE_STRING;
    }

    private static int indexOf(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }
}
