package io.keymeter.billing.api;

import io.keymeter.platform.security.BearerTokenFilter;
import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.platform.web.AdvertisedAddress;
import io.keymeter.platform.web.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.HostInfo;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * Sends a report call, with the caller's {@code Accept}, to the instance that owns the account's partition and
 * answers with what it answered (status, body, content type), marked so the owner answers itself and never forwards
 * again. The call is signed for the caller's account ({@link ForwardedCalls}); the caller's token is not sent.
 */
@Component
class OwnerForwarder {

    static final String FORWARDED = BearerTokenFilter.FORWARDED;
    static final String ANSWERED_BY = "X-Keymeter-Answered-By";

    private static final List<String> COPIED = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.CONTENT_DISPOSITION,
            HttpHeaders.RETRY_AFTER, ANSWERED_BY);

    private final RestClient http;
    private final ForwardedCalls forwardedCalls;

    OwnerForwarder(ForwardedCalls forwardedCalls) {
        this.forwardedCalls = forwardedCalls;
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
        factory.setReadTimeout(Duration.ofSeconds(30));
        this.http = RestClient.builder().requestFactory(factory).build();
    }

    /**
     * The parameters as this instance read them, encoded again: the raw query may hold characters a URI may not
     * ({@code |}, {@code [}, which curl sends as they are and Jetty takes), which made building the owner's URI throw
     * (a 500 where the owner answers the same call itself).
     */
    static String query(HttpServletRequest request) {
        String query = request.getParameterMap().entrySet().stream()
                .flatMap(p -> Arrays.stream(p.getValue()).map(v -> encode(p.getKey()) + "=" + encode(v)))
                .collect(Collectors.joining("&"));
        return query.isEmpty() ? null : query;
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    static boolean isForwarded(HttpServletRequest request) {
        return request.getHeader(FORWARDED) != null;
    }

    ResponseEntity<byte[]> forward(HostInfo owner, HttpServletRequest request) {
        // the path as routed here, path parameters dropped: a raw | in one (/v1/usage;a|b) made building the URI throw
        URI uri = UriComponentsBuilder.newInstance().scheme("http").host(AdvertisedAddress.uriHost(owner.host()))
                .port(owner.port())
                .path(UriUtils.encodePath(BearerTokenFilter.routedPath(request), StandardCharsets.UTF_8))
                .query(query(request)).build(true).toUri();
        ResponseEntity<byte[]> answer;
        try {
            answer = http.get().uri(uri)
                    .header(HttpHeaders.AUTHORIZATION, forwardedCalls.authorization(request, uri))
                    .header(FORWARDED, "1")
                    .headers(headers -> ForwardedCalls.accept(request)
                            .ifPresent(accept -> headers.set(HttpHeaders.ACCEPT, accept)))
                    .exchange((req, res) -> {
                        HttpHeaders headers = new HttpHeaders();
                        COPIED.forEach(name -> {
                            String value = res.getHeaders().getFirst(name);
                            if (value != null) {
                                headers.set(name, value);
                            }
                        });
                        return ResponseEntity.status(res.getStatusCode()).headers(headers).body(res.getBody().readAllBytes());
                    });
        } catch (RestClientException e) {
            ForwardedCalls.ownerDidNotAnswer(owner, e);
            throw ApiProblem.unavailable("The instance that holds this account's reports did not answer; try again shortly.",
                    Duration.ofSeconds(5));
        }
        if (answer.getStatusCode().value() == 401) {
            throw ForwardedCalls.refusedByOwner(owner,
                    new String(answer.getBody() == null ? new byte[0] : answer.getBody(), StandardCharsets.UTF_8));
        }
        return answer;
    }
}
