package io.keymeter.app.support;

import io.keymeter.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import tools.jackson.databind.JsonNode;

/** Calls to a Keymeter started in the test's JVM (on its own broker, at any port), as a token's holder. */
public final class AppHttp {

    private final HttpClient http = HttpClient.newHttpClient();
    private final ApplicationContext app;
    private final Duration timeout;

    /** {@code timeout} bounds each call. */
    public AppHttp(ApplicationContext app, Duration timeout) {
        this.app = app;
        this.timeout = timeout;
    }

    /** A JSON call ({@code json} null: no body) with {@code token} as the bearer. */
    public HttpResponse<String> send(String method, String path, String json, String token)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:"
                        + ((WebServerApplicationContext) app).getWebServer().getPort() + path))
                .timeout(timeout).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** {@code POST /v1/verify}'s answer for {@code apiKey} used for {@code service}, asked by gateway {@code token}. */
    public String verify(String apiKey, String service, String token) throws IOException, InterruptedException {
        return send("POST", "/v1/verify", "{\"apiKey\":\"" + apiKey + "\",\"service\":\"" + service + "\"}", token)
                .body();
    }

    public static JsonNode json(HttpResponse<String> response) {
        return Json.mapper().readTree(response.body());
    }
}
