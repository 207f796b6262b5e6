package io.keymeter.app.credentials;

import io.keymeter.app.support.TestAccounts;
import io.keymeter.events.Json;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/** Small HTTP client for the credential endpoints, as one account. */
final class CredentialsHttp {

    private final TestRestTemplate http;
    private final String token;

    CredentialsHttp(TestRestTemplate http, String accountId) {
        this(http, accountId, TestAccounts.token(accountId));
    }

    private CredentialsHttp(TestRestTemplate http, String accountId, String token) {
        this.http = http;
        this.token = token;
    }

    static CredentialsHttp withToken(TestRestTemplate http, String token) {
        return new CredentialsHttp(http, null, token);
    }

    Answer call(HttpMethod method, String path, String json) {
        return call(method, path, json, new HttpHeaders());
    }

    /** With headers of the caller's own ({@code If-Match}, say). */
    Answer call(HttpMethod method, String path, String json, HttpHeaders headers) {
        if (token != null) {
            headers.setBearerAuth(token);
        }
        if (json != null) {
            headers.setContentType(MediaType.APPLICATION_JSON);
        }
        ResponseEntity<String> response = http.exchange(path, method, new HttpEntity<>(json, headers), String.class);
        return new Answer(response.getStatusCode().value(), response.getHeaders(), response.getBody());
    }

    Answer get(String path) {
        return call(HttpMethod.GET, path, null);
    }

    Answer post(String path, String json) {
        return call(HttpMethod.POST, path, json);
    }

    Answer put(String path, String json) {
        return call(HttpMethod.PUT, path, json);
    }

    Answer delete(String path) {
        return call(HttpMethod.DELETE, path, null);
    }

    /** Creates a credential with the basemaps privilege and returns its id. */
    String createCredential(String name) {
        Answer created = post("/v1/credentials",
                "{\"name\":\"" + name + "\",\"privileges\":[\"premium:user:basemaps\"],\"referrers\":[\"https://*.example.com\"]}");
        if (created.status() != 201) {
            throw new AssertionError("create answered " + created.status() + ": " + created.body());
        }
        return created.json().get("id").asString();
    }

    record Answer(int status, HttpHeaders headers, String body) {
        JsonNode json() {
            return Json.mapper().readTree(body);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }
}
