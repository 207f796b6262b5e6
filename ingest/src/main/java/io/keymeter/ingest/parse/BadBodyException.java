package io.keymeter.ingest.parse;

/**
 * The body as a whole cannot be read (a JSON array that is not valid JSON, a corrupt gzip stream): nothing of the
 * batch is taken. The message is written for the caller and never echoes the input.
 */
public class BadBodyException extends RuntimeException {

    public BadBodyException(String message) {
        super(message, null, false, false);
    }
}
