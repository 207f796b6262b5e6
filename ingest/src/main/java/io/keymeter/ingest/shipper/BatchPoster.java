package io.keymeter.ingest.shipper;

import io.keymeter.events.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLException;
import tools.jackson.databind.JsonNode;

/**
 * Posts one NDJSON batch to {@code /v1/requests} under the base URL, retrying what passes (503, and 429, 502 and 504,
 * which a proxy or load balancer in front answers while Keymeter restarts; 408, an upload that stalled; connection
 * failures) with exponential backoff, honouring {@code Retry-After}. Any other refusal is final: resending the same bytes cannot help, nor can
 * a TLS handshake with a server that speaks none.
 */
final class BatchPoster {

    /**
     * Answers that pass: Keymeter not ready (503), or a proxy in front while it restarts; and an upload that stalled
     * past the server's idle timeout (Keymeter's 408 takes nothing of it; a proxy's may follow a batch taken, whose
     * lines metering then counts once by requestId).
     */
    private static final Set<Integer> RETRIED = Set.of(408, 429, 502, 503, 504);

    private final HttpClient http;
    private final URI endpoint;
    private final String token;
    private final boolean gzip;
    private final int maxAttempts;
    private final Duration firstBackoff;
    private final Duration maxBackoff;

    BatchPoster(URI baseUrl, String token, boolean gzip, int maxAttempts, Duration firstBackoff, Duration maxBackoff) {
        // HTTP/1.1: the keep-alive ShipperCommand sets covers its connections only (the JDK keeps HTTP/2 ones apart,
        // which an https proxy in front could offer); batches go one at a time, so HTTP/2 would gain nothing
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        // under the base URL's path: behind a proxy at http://host/keymeter/ it posted to http://host/v1/requests
        URI base = baseUrl.getRawPath() != null && baseUrl.getRawPath().endsWith("/") ? baseUrl
                : URI.create(baseUrl + "/");
        this.endpoint = base.resolve("v1/requests");
        Json.mapper(); // read in before the first answer, not between its 202 and its saved position
        this.token = token;
        this.gzip = gzip;
        this.maxAttempts = maxAttempts;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
    }

    /** The server's answer to an acknowledged batch. */
    record Answer(long accepted, List<LineError> rejected, int attempts) {
    }

    record LineError(int line, String error) {
    }

    /** Thrown when the batch cannot be delivered: a final refusal, or retries used up. */
    static final class ShipException extends Exception {
        ShipException(String message) {
            super(message);
        }
    }

    Answer post(byte[] ndjson, int length) throws ShipException, InterruptedException {
        byte[] body = gzip ? gzip(ndjson, length) : java.util.Arrays.copyOf(ndjson, length);
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (gzip) {
            request.header("Content-Encoding", "gzip");
        }
        Duration backoff = firstBackoff;
        String lastFailure = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            Duration wait = backoff;
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 202) {
                    return parse(response.body(), attempt);
                }
                if (!RETRIED.contains(response.statusCode())) {
                    throw new ShipException("the server refused the batch with " + response.statusCode() + ": "
                            + detail(response.body()));
                }
                lastFailure = response.statusCode() + " " + detail(response.body());
                Duration current = backoff;
                wait = retryAfter(response).filter(d -> d.compareTo(current) > 0).orElse(current);
            } catch (SSLException e) {
                throw new ShipException("no TLS with " + endpoint + " (" + e.getMessage() + "): is it an http:// address?");
            } catch (IOException e) {
                lastFailure = "cannot reach " + endpoint + ": " + e;
            }
            if (attempt < maxAttempts) {
                Thread.sleep(Math.min(wait.toMillis(), maxBackoff.toMillis()));
                backoff = min(backoff.multipliedBy(2), maxBackoff);
            }
        }
        throw new ShipException("gave up after " + maxAttempts + " attempts; last: " + lastFailure);
    }

    private static Answer parse(String body, int attempts) {
        JsonNode json = Json.mapper().readTree(body);
        List<LineError> rejected = new ArrayList<>();
        json.path("rejected").forEach(r -> rejected.add(new LineError(r.path("line").asInt(), r.path("error").asString())));
        return new Answer(json.path("accepted").asLong(), rejected, attempts);
    }

    private static String detail(String body) {
        try {
            JsonNode json = Json.mapper().readTree(body);
            return json.path("detail").asString(body);
        } catch (RuntimeException e) {
            return body == null ? "" : body.substring(0, Math.min(200, body.length()));
        }
    }

    private static java.util.Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(v -> {
            try {
                return java.util.Optional.of(Duration.ofSeconds(Long.parseLong(v.trim())));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        });
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static byte[] gzip(byte[] data, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, length / 6));
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 64 * 1024) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            gz.write(data, 0, length);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
