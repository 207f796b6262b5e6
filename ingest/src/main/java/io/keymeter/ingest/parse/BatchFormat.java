package io.keymeter.ingest.parse;

/** How the lines of a batch are framed. */
public enum BatchFormat {
    /** {@code application/x-ndjson}: one JSON object a line; a broken line is skipped up to the next newline. */
    NDJSON,
    /** {@code application/json}: one array of objects; only element-level errors are recoverable. */
    JSON_ARRAY
}
