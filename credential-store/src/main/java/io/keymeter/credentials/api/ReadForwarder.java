package io.keymeter.credentials.api;

import io.keymeter.events.Json;
import io.keymeter.platform.security.BearerTokenFilter;
import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.platform.web.AdvertisedAddress;
import io.keymeter.platform.web.ApiProblem;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.HostInfo;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Forwards a read to the instance that owns the credential, signed for the caller's account
 * ({@link io.keymeter.platform.security.ForwardedCalls}: every instance knows the same accounts; the caller's token
 * is not sent). The forwarded call carries {@link #HEADER}, so it is answered locally and never forwarded again.
 */
@Component
class ReadForwarder {

    static final String HEADER = BearerTokenFilter.FORWARDED;
    /** On a forwarded list's answer: the store partitions it was read from. */
    static final String PARTITIONS = "X-Keymeter-Partitions";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /**
     * The owner's answer to the caller's {@code accept}, status and body as they are, with its {@code Retry-After} (a
     * 503 says when to retry) and its {@code ETag}.
     */
    ResponseEntity<String> get(HostInfo host, String path, Function<URI, String> authorization,
                               Optional<String> accept) {
        HttpResponse<String> response = send(host, path, authorization, accept);
        ResponseEntity.BodyBuilder answer = ResponseEntity.status(response.statusCode())
                .contentType(MediaType.parseMediaType(response.headers().firstValue(HttpHeaders.CONTENT_TYPE)
                        .orElse(MediaType.APPLICATION_JSON_VALUE)));
        response.headers().firstValue(HttpHeaders.RETRY_AFTER)
                .ifPresent(retryAfter -> answer.header(HttpHeaders.RETRY_AFTER, retryAfter));
        // the version a conditional change (If-Match) is made over, and what a conditional read compares
        response.headers().firstValue(HttpHeaders.ETAG).ifPresent(tag -> answer.header(HttpHeaders.ETAG, tag));
        return answer.body(response.body());
    }

    /**
     * Another instance's list, which must be a 200, with the store partitions it was read from ({@link #PARTITIONS});
     * empty when the answer does not say (an instance of an earlier version).
     */
    ForwardedList getList(HostInfo host, String path, Function<URI, String> authorization) {
        HttpResponse<String> response = send(host, path, authorization, Optional.of(MediaType.APPLICATION_JSON_VALUE));
        if (response.statusCode() != 200) {
            throw unavailable(host);
        }
        try {
            Optional<Set<Integer>> partitions = response.headers().firstValue(PARTITIONS).map(ReadForwarder::partitions);
            return new ForwardedList(Json.mapper().readTree(response.body()), partitions);
        } catch (NumberFormatException | JacksonException e) {
            throw unavailable(host); // not an answer this version can merge: a 503, never a 500
        }
    }

    record ForwardedList(JsonNode body, Optional<Set<Integer>> partitions) {
    }

    /** The value of {@link #PARTITIONS}: partition numbers, comma-separated. */
    static String partitionsHeader(Set<Integer> partitions) {
        return partitions.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
    }

    static Set<Integer> partitions(String header) {
        return Arrays.stream(header.split(",")).map(String::strip).filter(p -> !p.isEmpty()).map(Integer::valueOf)
                .collect(Collectors.toSet());
    }

    /**
     * {@code authorization} gives the Authorization value for the URI called. An owner's refusal of the forwarded call
     * is never passed on as its 401 ({@link ForwardedCalls#refusedByOwner}).
     */
    private HttpResponse<String> send(HostInfo host, String path, Function<URI, String> authorization,
                                      Optional<String> accept) {
        URI uri = URI.create("http://" + AdvertisedAddress.uriHost(host.host()) + ":" + host.port() + path);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header(HttpHeaders.AUTHORIZATION, authorization.apply(uri)).header(HEADER, "1");
        accept.ifPresent(value -> builder.header(HttpHeaders.ACCEPT, value));
        HttpRequest request = builder.GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            ForwardedCalls.ownerDidNotAnswer(host, e);
            throw unavailable(host);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(host);
        }
        if (response.statusCode() == 401) {
            throw ForwardedCalls.refusedByOwner(host, response.body());
        }
        return response;
    }

    private static ApiProblem unavailable(HostInfo host) {
        return ApiProblem.unavailable("The instance holding this credential does not answer.", Duration.ofSeconds(1));
    }
}
