package io.keymeter.ingest.http;

import io.keymeter.ingest.parse.BadBodyException;
import io.keymeter.ingest.parse.BatchFormat;
import io.keymeter.ingest.publish.PublishUnavailableException;
import io.keymeter.platform.web.ApiProblem;
import io.keymeter.platform.web.HeaderElements;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.apache.commons.io.input.ReaderInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/requests} (CONTRACT §3): a batch of request-log lines from a gateway. The gateway token is
 * checked by the platform filter before this runs.
 */
@RestController
public class RequestsController {

    static final String NDJSON = "application/x-ndjson";
    /** Limit of the body as sent (compressed or not). */
    public static final long MAX_BODY = 16L * 1024 * 1024;
    /** Limit of a gzip body once decompressed: bounds the work one request can cause (gzip bombs). */
    static final long MAX_DECOMPRESSED = 64L * 1024 * 1024;
    static final Duration RETRY_AFTER = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(RequestsController.class);

    private final BatchIngestor ingestor;
    private final BodySpool spool;
    private final DiskReserve disk;

    RequestsController(BatchIngestor ingestor, BodySpool spool, DiskReserve disk) {
        this.ingestor = ingestor;
        this.spool = spool;
        this.disk = disk;
    }

    // no "produces", as for verify (VerifyController)
    @PostMapping(path = "/v1/requests", consumes = {NDJSON, MediaType.APPLICATION_JSON_VALUE})
    ResponseEntity<IngestResult> ingest(HttpServletRequest request) throws IOException {
        MediaType type = MediaType.parseMediaType(request.getContentType());
        BatchFormat format = type.isCompatibleWith(MediaType.APPLICATION_JSON) ? BatchFormat.JSON_ARRAY : BatchFormat.NDJSON;
        boolean gzip = gzip(Collections.list(request.getHeaders(HttpHeaders.CONTENT_ENCODING)));
        boolean chunked = request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null; // only chunked passes the guard
        if (request.getContentLengthLong() < 0 && !chunked) {
            // HTTP reads such a request as having no body: its lines, sent anyway, were answered 202 with none taken
            throw new ApiProblem(411, "Length required", "A batch is sent with Content-Length or Transfer-Encoding:"
                    + " chunked; without either its body is empty to HTTP, and nothing was taken.", List.of(), null);
        }
        if (request.getContentLengthLong() > MAX_BODY) {
            throw tooLarge("the body is larger than 16 MiB");
        }
        Optional<String> diskFull = disk.refusal();
        if (diskFull.isPresent()) {
            throw ApiProblem.unavailable(diskFull.get(), DiskReserve.RETRY_AFTER);
        }
        // received whole before Kafka is touched: an upload's time is the client's, not the transaction's
        try (BodySpool.Body received = spool.receive(
                new LimitedInputStream(request.getInputStream(), MAX_BODY, "the body"), request.getContentLengthLong())) {
            InputStream body = received.stream();
            if (gzip) {
                // every member of a concatenation read, and anything after the last one that is not a member refused:
                // JDK 17's GZIPInputStream took such bytes for the end of the body, their lines lost behind a 202
                body = new LimitedInputStream(GzipBodies.open(body), MAX_DECOMPRESSED, "the decompressed body");
            }
            body = asUtf8(body, type);
            IngestResult result = ingestor.ingest(body, format);
            log.debug("Batch taken: {} accepted, {} refused", result.accepted(), result.rejected().size());
            return ResponseEntity.accepted().body(result);
        } catch (BodyTooLargeException e) {
            throw tooLarge(e.getMessage());
        } catch (GzipBodies.BadGzipException e) {
            // a bad header, bad deflate data, a wrong checksum, bytes after the last member: the message says which
            throw ApiProblem.badRequest("body: is not a valid gzip stream (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            // Jetty ends a chunked body so too when a chunk's size line or framing is broken
            throw ApiProblem.badRequest(chunked ? "body: ended early, or its chunked framing is broken; nothing of it"
                    + " was taken" : "body: ended early; nothing of it was taken");
        } catch (BadBodyException e) {
            throw ApiProblem.badRequest(e.getMessage());
        } catch (BodySpool.SpoolFullException e) {
            log.warn("Batch refused with 503: {}", e.getMessage());
            throw ApiProblem.unavailable("Too many batches are being received at once; nothing of this one was kept."
                    + " Send it again.", RETRY_AFTER);
        } catch (PublishUnavailableException e) {
            log.warn("Batch refused with 503: {} ({})", e.getMessage(), e.getCause() == null ? "-" : e.getCause().toString());
            throw ApiProblem.unavailable("Kafka cannot take the batch now; nothing of it was kept. Send it again.",
                    RETRY_AFTER);
        }
    }

    /**
     * Lines are read as UTF-8 bytes: a body declared in another charset is re-encoded first (it was read as UTF-8
     * anyway: a UTF-16 batch answered 202 with every line "not valid JSON", Latin-1 lost its non-ASCII lines).
     */
    private static InputStream asUtf8(InputStream body, MediaType type) throws IOException {
        Charset charset = type.getCharset(); // known to exist: ContentTypeGuard refused unknown names
        if (charset == null || charset.equals(StandardCharsets.UTF_8)) {
            return body;
        }
        return ReaderInputStream.builder().setReader(new InputStreamReader(body, charset))
                .setCharset(StandardCharsets.UTF_8).get();
    }

    /**
     * Every Content-Encoding header and every coding in each: a second header ({@code identity} then {@code gzip})
     * was not read, and the gzip bytes were parsed as lines, each refused behind a 202.
     */
    private static boolean gzip(List<String> headers) {
        List<String> codings = HeaderElements.of(headers).stream().filter(c -> !c.equalsIgnoreCase("identity")).toList();
        if (codings.isEmpty()) {
            return false;
        }
        if (codings.size() == 1 && (codings.get(0).equalsIgnoreCase("gzip") || codings.get(0).equalsIgnoreCase("x-gzip"))) {
            return true;
        }
        throw new ApiProblem(415, "Unsupported media type", "Content-Encoding must be gzip or identity, one coding",
                List.of(), null);
    }

    private static ApiProblem tooLarge(String detail) {
        return new ApiProblem(413, "Payload too large", detail + "; split the batch", List.of(), null);
    }
}
