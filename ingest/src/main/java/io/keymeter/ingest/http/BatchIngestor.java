package io.keymeter.ingest.http;

import io.keymeter.ingest.parse.BadBodyException;
import io.keymeter.ingest.parse.BatchFormat;
import io.keymeter.ingest.parse.BatchReader;
import io.keymeter.ingest.parse.LineHandler;
import io.keymeter.ingest.parse.LineOutcome;
import io.keymeter.ingest.parse.RawLine;
import io.keymeter.ingest.parse.RequestLineValidator;
import io.keymeter.ingest.publish.TransactionalPublisher;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * One batch from body to Kafka: read line by line, validate, hash, and send inside one transaction while reading,
 * then commit. Any failure before the commit aborts the whole batch.
 */
@Component
final class BatchIngestor {

    /** More refused lines than this and the body is refused whole: bounds the memory of one answer. */
    static final int MAX_LINE_ERRORS = 100_000;

    private final RequestLineValidator validator;
    private final TransactionalPublisher publisher;

    BatchIngestor(RequestLineValidator validator, TransactionalPublisher publisher) {
        this.validator = validator;
        this.publisher = publisher;
    }

    IngestResult ingest(InputStream body, BatchFormat format) throws IOException {
        try (TransactionalPublisher.Batch batch = publisher.begin()) {
            List<IngestResult.LineError> errors = new ArrayList<>();
            long[] accepted = {0};
            BatchReader.read(body, format, new LineHandler() {
                @Override
                public void line(int line, RawLine raw) {
                    LineOutcome outcome = validator.validate(raw);
                    if (outcome instanceof LineOutcome.Accepted ok) {
                        batch.send(ok.request());
                        accepted[0]++;
                    } else if (outcome instanceof LineOutcome.MalformedKey malformed) {
                        batch.send(RequestLineValidator.MALFORMED_KEY_ID, malformed.rejection());
                        accepted[0]++;
                    } else if (outcome instanceof LineOutcome.Invalid invalid) {
                        unreadable(line, invalid.error());
                    }
                }

                @Override
                public void unreadable(int line, String error) {
                    if (errors.size() == MAX_LINE_ERRORS) {
                        throw new BadBodyException("body: more than " + MAX_LINE_ERRORS + " lines are invalid; nothing was taken");
                    }
                    errors.add(new IngestResult.LineError(line, error));
                }
            });
            batch.commit();
            return new IngestResult(accepted[0], errors);
        }
    }
}
