package io.keymeter.ingest.parse;

import io.keymeter.events.Rejection;
import io.keymeter.events.RequestLog;

/** What becomes of one valid-or-not line: a request to publish, a malformed-key rejection, or a line error. */
public sealed interface LineOutcome {

    /** A valid line with a well-formed key: goes to {@code keymeter.requests}. */
    record Accepted(RequestLog request) implements LineOutcome {
    }

    /** A valid line whose key is malformed: taken, and recorded on {@code keymeter.rejections}. */
    record MalformedKey(Rejection rejection) implements LineOutcome {
    }

    /** A line that is refused; {@code error} is "field: message" and never echoes a value. */
    record Invalid(String error) implements LineOutcome {
    }
}
