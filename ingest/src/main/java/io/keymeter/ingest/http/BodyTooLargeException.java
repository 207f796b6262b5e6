package io.keymeter.ingest.http;

import java.io.IOException;

/** The body, as sent or once decompressed, passed its limit. */
final class BodyTooLargeException extends IOException {

    BodyTooLargeException(String message) {
        super(message, null);
    }
}
