package io.keymeter.ingest.http;

import java.util.List;

/** The answer to a batch: lines taken, and the refused ones with their reason. */
record IngestResult(long accepted, List<LineError> rejected) {

    record LineError(int line, String error) {
    }
}
