package io.keymeter.ingest.parse;

/** Receives the lines of a batch in order, as {@link BatchReader} reads them. Lines count from 1. */
public interface LineHandler {

    /** A line that is a JSON object (its fields still to be validated). */
    void line(int line, RawLine raw);

    /** A line that cannot be read at all; {@code error} is "field: message" and never echoes the input. */
    void unreadable(int line, String error);
}
