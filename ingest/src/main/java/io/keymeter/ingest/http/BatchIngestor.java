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
 * ({@link BodySpool}): reading it costs the transaction no network time. The transaction starts at the first line
 * for Kafka ({@link FirstSendBatch}).
 */
@Component
public final class BatchIngestor {

    /** More refused lines than this and the body is refused whole: bounds the memory of one answer. */
    public static final int MAX_LINE_ERRORS = 100_000;

    /** {@code keymeter_ingest_lines_total{outcome}}: lines of batches answered 202, by what became of them. */
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
                .description("Request-log lines of batches answered 202: accepted (on keymeter.requests), malformed-key "
                        + "(taken, on keymeter.rejections) or refused (a line error in the answer)")
                .register(registry);
    }

    IngestResult ingest(InputStream body, BatchFormat format) throws IOException {
        try (FirstSendBatch batch = new FirstSendBatch(publisher)) {
            List<IngestResult.LineError> errors = new ArrayList<>();
            long[] accepted = {0};
            long[] malformedKeys = {0};
            BatchReader.read(body, format, new LineHandler() {
                @Override
                public void line(int line, RawLine raw) {
                    LineOutcome outcome = validator.validate(raw);
                    if (outcome instanceof LineOutcome.Accepted ok) {
                        batch.get().send(ok.request());
                        accepted[0]++;
                    } else if (outcome instanceof LineOutcome.MalformedKey malformed) {
                        batch.get().send(RequestLineValidator.MALFORMED_KEY_ID, malformed.rejection());
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
            // counted once Kafka has the batch (or it had no line for Kafka): a batch refused whole took no line
            acceptedLines.increment(accepted[0]);
            malformedKeyLines.increment(malformedKeys[0]);
            refusedLines.increment(errors.size());
            return new IngestResult(accepted[0] + malformedKeys[0], errors);
        }
    }

    /**
     * Begins the transaction with the first line for Kafka. Begun with the request, a body refused whole before any
     * such line (an object where the array belongs, too many bad lines) waited for a producer and answered 503
     * while Kafka was down, when it is a 400 that no retry can fix; and a body whose every line is refused touches
     * Kafka not at all.
     */
    private static final class FirstSendBatch implements AutoCloseable {
        private final TransactionalPublisher publisher;
        private TransactionalPublisher.Batch batch;

        FirstSendBatch(TransactionalPublisher publisher) {
            this.publisher = publisher;
        }

        TransactionalPublisher.Batch get() {
            if (batch == null) {
                batch = publisher.begin();
            }
            return batch;
        }

        void commit() {
            if (batch != null) {
                batch.commit();
            }
        }

        @Override
        public void close() {
            if (batch != null) {
                batch.close();
            }
        }
    }
}
