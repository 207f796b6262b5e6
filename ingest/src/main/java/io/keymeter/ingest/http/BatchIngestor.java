package io.keymeter.ingest.http;

import io.keymeter.ingest.parse.BadBodyException;
import io.keymeter.ingest.parse.BatchFormat;
import io.keymeter.ingest.parse.BatchReader;
import io.keymeter.ingest.parse.LineHandler;
import io.keymeter.ingest.parse.LineOutcome;
import io.keymeter.ingest.parse.RawLine;
import io.keymeter.ingest.parse.RequestLineValidator;
import io.keymeter.ingest.publish.TransactionalPublisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * One batch from its received body to Kafka: read line by line, validate, hash, and send inside one transaction
 * while reading, then commit. Any failure before the commit aborts the whole batch. The body is already in memory
 * ({@link BodySpool}): reading it costs the transaction no network time.
 */
@Component
final class BatchIngestor {

    /** More refused lines than this and the body is refused whole: bounds the memory of one answer. */
    static final int MAX_LINE_ERRORS = 100_000;

    /** {@code keymeter_ingest_lines_total{outcome}}: lines of committed batches, by what became of them. */
    static final String LINES_METRIC = "keymeter.ingest.lines";

    private final RequestLineValidator validator;
    private final TransactionalPublisher publisher;
    private final Counter acceptedLines;
    private final Counter malformedKeyLines;
    private final Counter refusedLines;

    BatchIngestor(RequestLineValidator validator, TransactionalPublisher publisher, MeterRegistry meterRegistry) {
        this.validator = validator;
        this.publisher = publisher;
        this.acceptedLines = lines(meterRegistry, "accepted");
        this.malformedKeyLines = lines(meterRegistry, "malformed-key");
        this.refusedLines = lines(meterRegistry, "refused");
    }

    private static Counter lines(MeterRegistry registry, String outcome) {
        return Counter.builder(LINES_METRIC).tag("outcome", outcome)
                .description("Request-log lines of committed batches: accepted (on keymeter.requests), malformed-key "
                        + "(taken, on keymeter.rejections) or refused (a line error in the answer)")
                .register(registry);
    }

    IngestResult ingest(InputStream body, BatchFormat format) throws IOException {
        try (TransactionalPublisher.Batch batch = publisher.begin()) {
            List<IngestResult.LineError> errors = new ArrayList<>();
            long[] accepted = {0};
            long[] malformedKeys = {0};
            BatchReader.read(body, format, new LineHandler() {
                @Override
                public void line(int line, RawLine raw) {
                    LineOutcome outcome = validator.validate(raw);
                    if (outcome instanceof LineOutcome.Accepted ok) {
                        batch.send(ok.request());
                        accepted[0]++;
                    } else if (outcome instanceof LineOutcome.MalformedKey malformed) {
                        batch.send(RequestLineValidator.MALFORMED_KEY_ID, malformed.rejection());
                        malformedKeys[0]++;
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
            // counted once Kafka has the batch: a batch refused whole (400, 413, 503) took no line
            acceptedLines.increment(accepted[0]);
            malformedKeyLines.increment(malformedKeys[0]);
            refusedLines.increment(errors.size());
            return new IngestResult(accepted[0] + malformedKeys[0], errors);
        }
    }
}
