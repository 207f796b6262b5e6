package io.keymeter.app.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.app.support.TestAccounts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import org.springframework.http.HttpMethod;
import tools.jackson.databind.JsonNode;

/** Every validation rule answers 400 naming its field; tokens and tenants are enforced; bad bodies are never a 5xx. */
@KeymeterIntegrationTest
class CredentialValidationHttpTest {

    @Autowired
    TestRestTemplate rest;

    private CredentialsHttp http;

    @BeforeEach
    void setUp() {
        http = new CredentialsHttp(rest, "oscorp");
    }

    static Stream<Arguments> invalidCreations() {
        String ok = "\"privileges\":[\"premium:user:basemaps\"]";
        String items1001 = String.join(",", Collections.nCopies(1001, "\"i\""));
        String refs101 = String.join(",", Collections.nCopies(101, "\"https://a.com\""));
        return Stream.of(
                Arguments.of("{" + ok + "}", "name"),
                Arguments.of("{\"name\":\"\"," + ok + "}", "name"),
                Arguments.of("{\"name\":\"" + "n".repeat(129) + "\"," + ok + "}", "name"),
                Arguments.of("{\"name\":\"x\"}", "privileges"),
                Arguments.of("{\"name\":\"x\",\"privileges\":[]}", "privileges"),
                Arguments.of("{\"name\":\"x\",\"privileges\":[\"admin:everything\"]}", "privileges[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"itemAccess\":[\"bad id!\"]}", "itemAccess[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"itemAccess\":[\"" + "i".repeat(65) + "\"]}", "itemAccess[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"itemAccess\":[" + items1001 + "]}", "itemAccess"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"referrers\":[\"example.com\"]}", "referrers[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"referrers\":[\"https://a.*.example.com\"]}", "referrers[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"referrers\":[\"https://*.co.uk\"]}", "referrers[0]"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"referrers\":[" + refs101 + "]}", "referrers"),
                Arguments.of("{\"name\":\"x\"," + ok + ",\"owner\":\"globex\"}", "owner"),
                Arguments.of("{\"name\":\"x\",\"privileges\":\"premium:user:basemaps\"}", "privileges"),
                Arguments.of("{\"name\":5," + ok + "}", "name"),
                Arguments.of("{\"name\":true," + ok + "}", "name"),
                Arguments.of("{\"name\":\"x\",\"privileges\":[7]}", "privileges[0]"));
    }

    @ParameterizedTest
    @MethodSource("invalidCreations")
    void eachCreationRuleAnswers400NamingTheField(String body, String field) {
        CredentialsHttp.Answer answer = http.post("/v1/credentials", body);

        assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
        assertThat(answer.headers().getContentType()).hasToString("application/problem+json");
        assertThat(answer.json().get("errors").findValuesAsString("field")).as(answer.toString()).contains(field);
    }

    @Test
    void keyRulesAnswer400NamingTheField() {
        String id = http.createCredential("keys");
        String keys = "/v1/credentials/" + id + "/keys";
        Instant now = Instant.now();

        assertField(http.post(keys, "{}"), "expiresAt");
        assertField(http.post(keys, "{\"expiresAt\":\"" + now.plus(Duration.ofHours(1)) + "\"}"), "expiresAt");
        assertField(http.post(keys, "{\"expiresAt\":\"" + now.plus(Duration.ofDays(400)) + "\"}"), "expiresAt");
        assertField(http.post(keys, "{\"expiresAt\":\"next tuesday\"}"), "expiresAt");
        assertField(http.post(keys, "{\"slot\":3,\"expiresAt\":\"" + now.plus(Duration.ofDays(5)) + "\"}"), "slot");
        String in5Days = "\"expiresAt\":\"" + now.plus(Duration.ofDays(5)) + "\"";
        assertField(http.post(keys, "{\"slot\":1.9," + in5Days + "}"), "slot");
        assertField(http.post(keys, "{\"slot\":\"2\"," + in5Days + "}"), "slot");
        assertField(http.post(keys, "{\"expiresAt\":" + now.plus(Duration.ofDays(5)).getEpochSecond() + "}"), "expiresAt");
        assertField(http.post(keys, "{\"expiresAt\":\"" + now.plus(Duration.ofDays(5)).getEpochSecond() + "\"}"), "expiresAt");
        assertField(http.post(keys + "/1/regenerate", "{\"expiresAt\":" + now.plus(Duration.ofDays(5)).toEpochMilli() + "}"),
                "expiresAt");
        assertField(http.post(keys + "/3/invalidate", null), "slot");
        // calls that take no body refuse a field rather than ignore it
        assertField(http.post(keys + "/1/invalidate", "{\"slot\":2}"), "slot");
        assertField(http.call(HttpMethod.DELETE, "/v1/credentials/" + id, "{\"force\":true}"), "force");
        assertThat(http.get("/v1/credentials/" + id).status()).as("still there").isEqualTo(200);
        assertField(http.post(keys + "/x/regenerate", null), "slot");
        assertField(http.post(keys + "/1/regenerate", "{\"expiresAt\":\"" + now.minus(Duration.ofDays(1)) + "\"}"),
                "expiresAt");
        assertField(http.put("/v1/credentials/" + id + "/privileges", "{\"privileges\":[]}"), "privileges");
        assertField(http.put("/v1/credentials/" + id + "/item-access", "{}"), "itemAccess");
        assertField(http.put("/v1/credentials/" + id + "/referrers", "{\"referrers\":[\"ftp//x\"]}"), "referrers[0]");
    }

    /**
     * {@code curl -X POST -d ''} sends an empty body typed as a form, and {@code -d '{}'} a {@code {}} typed so: a call
     * that takes no body takes both, and refuses a field in either (Spring hands a form-typed body over re-encoded as
     * form fields, {@code %7B%7D=}, so the body is read as sent). A JSON {@code null} is refused as every call that
     * takes a body refuses it: these calls took it as no body and regenerated, invalidated or deleted.
     */
    @Test
    void aCallThatTakesNoBodyTakesAnEmptyOneWhateverItsType() {
        String id = http.createCredential("empty bodies");
        String keys = "/v1/credentials/" + id + "/keys";
        String in5Days = "\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(5)) + "\"";
        assertThat(http.post(keys, "{\"slot\":1," + in5Days + "}").status()).isEqualTo(201);
        assertThat(http.post(keys, "{\"slot\":2," + in5Days + "}").status()).isEqualTo(201);

        for (CredentialsHttp.Answer nullBody : List.of(http.post(keys + "/1/regenerate", "null"),
                http.post(keys + "/1/invalidate", "null"), http.call(HttpMethod.DELETE, "/v1/credentials/" + id, "null"))) {
            assertThat(nullBody.status()).as(nullBody.toString()).isEqualTo(400); // was taken as no body: 201, 200, 204
            assertThat(nullBody.json().get("detail").asString()).isEqualTo("The body must be a JSON object.");
        }
        assertThat(http.get("/v1/credentials/" + id).json().get("keys").findValuesAsString("status"))
                .containsOnly("active");
        assertField(formPost(keys + "/1/regenerate", "{\"expiresAt\":12}"), "expiresAt");
        assertThat(formPost(keys + "/1/regenerate", "").status()).as("regenerate's body is optional too").isEqualTo(201);
        assertField(formPost(keys + "/1/invalidate", "{\"slot\":2}"), "slot");
        assertThat(formPost(keys + "/1/invalidate", "").status()).isEqualTo(200);
        assertThat(formPost(keys + "/2/invalidate", "{}").status()).isEqualTo(200);
        assertThat(http.post(keys + "/1/invalidate", "[]").status()).isEqualTo(400);
        JsonNode slots = http.get("/v1/credentials/" + id).json().get("keys");
        assertThat(slots.findValuesAsString("status")).containsOnly("invalidated");
    }

    /**
     * The list pages when asked ({@code limit}, then {@code after} a page's {@code next}), in the whole list's order,
     * every credential once, also with one deleted and one created between pages; without {@code limit} it is whole,
     * as the contract has it. A parameter the call does not take was ignored: {@code ?limt=10} listed everything.
     */
    @Test
    void theListPagesWhenAskedAndRefusesParametersItDoesNotTake() {
        for (int i = 0; i < 7; i++) {
            http.createCredential("page-" + i);
        }
        List<String> whole = http.get("/v1/credentials").json().get("credentials").findValuesAsString("id");
        assertThat(http.get("/v1/credentials").json().has("next")).isFalse();

        List<String> paged = new ArrayList<>();
        String next = null;
        boolean changedBetweenPages = false;
        do {
            CredentialsHttp.Answer page = http.get("/v1/credentials?limit=3" + (next == null ? "" : "&after=" + next));
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            List<String> ids = page.json().get("credentials").findValuesAsString("id");
            assertThat(ids.size()).isBetween(1, 3);
            paged.addAll(ids);
            next = page.json().has("next") ? page.json().get("next").asString() : null;
            if (!changedBetweenPages) { // the cursor holds: a deleted last credential, a new one listed last
                assertThat(http.delete("/v1/credentials/" + ids.get(ids.size() - 1)).status()).isEqualTo(204);
                whole = new ArrayList<>(whole);
                whole.add(http.createCredential("page-late"));
                changedBetweenPages = true;
            }
        } while (next != null);
        assertThat(paged).containsExactlyElementsOf(whole).doesNotHaveDuplicates();

        assertField(http.get("/v1/credentials?limt=3"), "limt");
        assertField(http.get("/v1/credentials?limit=3&limit=4"), "limit");
        assertField(http.get("/v1/credentials?limit=0"), "limit");
        assertField(http.get("/v1/credentials?limit=1001"), "limit");
        assertField(http.get("/v1/credentials?limit=x"), "limit");
        assertField(http.get("/v1/credentials?limit=3&after=not-a-cursor"), "after");
        assertField(http.get("/v1/credentials?after=" + java.util.Base64.getUrlEncoder().encodeToString(
                "2026-12-01T00:00:00Z x".getBytes(java.nio.charset.StandardCharsets.UTF_8))), "after");
        assertField(http.get("/v1/credentials/" + whole.get(0) + "?fields=name"), "fields");
    }

    /**
     * A call that changes something takes no query parameter: ignored, {@code regenerate?expiresAt=…} kept the old
     * date and answered 201, the caller believing the key's date set. Refused naming it, nothing changed.
     */
    @Test
    void aChangingCallRefusesQueryParametersItDoesNotTake() {
        String id = http.createCredential("no query");
        String path = "/v1/credentials/" + id;
        String in5Days = "\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(5)) + "\"";
        assertThat(http.post(path + "/keys", "{\"slot\":1," + in5Days + "}").status()).isEqualTo(201);
        String expiresAt = http.get(path).json().get("keys").get(0).get("expiresAt").asString();

        String later = Instant.now().plus(Duration.ofDays(20)).toString();
        assertField(http.post(path + "/keys/1/regenerate?expiresAt=" + later, ""), "expiresAt");
        assertField(http.post(path + "/keys?slot=2", "{" + in5Days + "}"), "slot");
        assertField(http.post(path + "/keys/1/invalidate?now=true", ""), "now");
        assertField(http.post("/v1/credentials?dryRun=1", "{\"name\":\"x\",\"privileges\":[\"premium:user:basemaps\"]}"),
                "dryRun");
        assertField(http.put(path + "/referrers?merge=1", "{\"referrers\":[]}"), "merge");
        assertField(http.put(path + "/privileges?x", "{\"privileges\":[\"premium:user:basemaps\"]}"), "x");
        assertField(http.put(path + "/item-access?x=1", "{\"itemAccess\":[]}"), "x");
        assertField(http.delete(path + "?force=1"), "force");

        JsonNode after = http.get(path).json();
        assertThat(after.get("keys")).as("nothing changed").hasSize(1);
        assertThat(after.get("keys").get(0).get("status").asString()).isEqualTo("active");
        assertThat(after.get("keys").get(0).get("expiresAt").asString()).isEqualTo(expiresAt);
        assertThat(http.post(path + "/keys/1/regenerate", "{\"expiresAt\":\"" + later + "\"}").status()).isEqualTo(201);
    }

    private CredentialsHttp.Answer formPost(String path, String body) {
        org.springframework.http.HttpHeaders form = new org.springframework.http.HttpHeaders();
        form.setBearerAuth(TestAccounts.token("oscorp"));
        form.setContentType(org.springframework.http.MediaType.APPLICATION_FORM_URLENCODED);
        var answer = rest.exchange(path, HttpMethod.POST, new org.springframework.http.HttpEntity<>(body, form), String.class);
        return new CredentialsHttp.Answer(answer.getStatusCode().value(), answer.getHeaders(), answer.getBody());
    }

    @Test
    void missingOrWrongTokenIs401() {
        assertThat(CredentialsHttp.withToken(rest, null).get("/v1/credentials").status()).isEqualTo(401);
        assertThat(CredentialsHttp.withToken(rest, "token-nobody").get("/v1/credentials").status()).isEqualTo(401);
        assertThat(CredentialsHttp.withToken(rest, "token-nobody").post("/v1/credentials", "{}").status()).isEqualTo(401);
        assertThat(CredentialsHttp.withToken(rest, "test-gateway-token").get("/v1/credentials").status())
                .as("a gateway token is not an account token").isEqualTo(401);
        assertThat(CredentialsHttp.withToken(rest, "test-gateway-token").post("/v1/privileges", "{}").status())
                .as("the catalog is read, not written, with a gateway token").isEqualTo(401);
        // a gateway's path written otherwise (a trailing slash): told what its token is good for, not only that an
        // account token is needed
        CredentialsHttp.Answer slash = CredentialsHttp.withToken(rest, "test-gateway-token").post("/v1/requests/", "{}");
        assertThat(slash.status()).isEqualTo(401);
        assertThat(slash.body())
                .contains("A gateway token is good for POST /v1/requests and /v1/verify and GET /v1/privileges only");
    }

    /**
     * A gateway enforcing keys from its own cache of keymeter.api-keys reads privileges there, and needs the catalog
     * to know which service each one grants: its token was refused 401 here.
     */
    @Test
    void aGatewayTokenReadsThePrivilegeCatalog() {
        CredentialsHttp.Answer gateway = CredentialsHttp.withToken(rest, "test-gateway-token").get("/v1/privileges");
        CredentialsHttp.Answer account = CredentialsHttp.withToken(rest, TestAccounts.token("oscorp")).get("/v1/privileges");

        assertThat(gateway.status()).as(gateway.body()).isEqualTo(200);
        assertThat(gateway.body()).contains("\"privilege\":\"premium:user:basemaps\",\"service\":\"basemaps\"")
                .isEqualTo(account.body());
        assertThat(CredentialsHttp.withToken(rest, "test-gateway-token").get("/v1/privileges/").status())
                .as("the path written exactly so").isEqualTo(401);
    }

    @Test
    void anotherAccountsCredentialAnswersExactlyLikeAMissingOne() {
        String theirs = new CredentialsHttp(rest, "soylent").createCredential("not yours");
        String missing = UUID.randomUUID().toString();
        String expires = "{\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(5)) + "\"}";

        for (String id : List.of(theirs, missing)) {
            String base = "/v1/credentials/" + id;
            List<CredentialsHttp.Answer> answers = List.of(
                    http.get(base),
                    http.put(base + "/privileges", "{\"privileges\":[\"premium:user:basemaps\"]}"),
                    http.put(base + "/item-access", "{\"itemAccess\":[]}"),
                    http.put(base + "/referrers", "{\"referrers\":[]}"),
                    http.post(base + "/keys", expires),
                    http.post(base + "/keys/1/regenerate", null),
                    http.post(base + "/keys/1/invalidate", null),
                    http.delete(base));
            for (CredentialsHttp.Answer answer : answers) {
                assertThat(answer.status()).as(answer.toString()).isEqualTo(404);
                JsonNode problem = answer.json();
                assertThat(problem.get("detail").asString()).isEqualTo("credential " + id + " does not exist");
            }
        }
        assertThat(http.get("/v1/credentials").json().get("credentials").findValuesAsString("id")).doesNotContain(theirs);
        assertThat(new CredentialsHttp(rest, "soylent").get("/v1/credentials/" + theirs).status())
                .as("still there for its owner").isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "[]", "null", "\"x\"", "42", "{\"name\":5}", "{\"name\":{\"a\":1}}",
            "{\"privileges\":[1,2]}", "{\"privileges\":[null]}", "{\"itemAccess\":[null]}", "{\"referrers\":[{}]}",
            "{\"name\":\"x\",\"privileges\":[\"premium:user:basemaps\"],\"referrers\":[null]}", "\u0000\u0001",
            "{\"slot\":\"one\"}", "{\"slot\":99999999999999999999}", "{\"expiresAt\":12}"})
    void malformedBodiesAreNever5xx(String body) {
        for (HttpMethod method : List.of(HttpMethod.POST)) {
            CredentialsHttp.Answer create = http.call(method, "/v1/credentials", body);
            assertThat(create.status()).as(create.toString()).isBetween(400, 499);
        }
        String id = UUID.randomUUID().toString();
        for (String path : List.of("/v1/credentials/" + id + "/keys", "/v1/credentials/" + id + "/keys/1/regenerate")) {
            CredentialsHttp.Answer answer = http.post(path, body);
            assertThat(answer.status()).as(path + " " + answer).isBetween(400, 499);
        }
        for (String path : List.of("/privileges", "/item-access", "/referrers")) {
            CredentialsHttp.Answer answer = http.put("/v1/credentials/" + id + path, body);
            assertThat(answer.status()).as(path + " " + answer).isBetween(400, 499);
        }
    }

    @Test
    void unknownCredentialIdShapesAre404NotErrors() {
        assertThat(http.get("/v1/credentials/not-a-uuid").status()).isEqualTo(404);
        assertThat(http.post("/v1/credentials/%2e%2e/keys/1/invalidate", null).status()).isBetween(400, 404);
    }

    private static void assertField(CredentialsHttp.Answer answer, String field) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
        assertThat(answer.json().get("errors").findValuesAsString("field")).as(answer.toString()).contains(field);
    }
}
