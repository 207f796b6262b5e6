package io.keymeter.app.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.TestRestTemplate;
import tools.jackson.databind.JsonNode;

/** 50 concurrent key operations on one credential: the single writer keeps the slot rules and the event log exact. */
@KeymeterIntegrationTest
class CredentialConcurrencyTest {

    @Autowired
    TestRestTemplate rest;

    @Test
    void fiftyConcurrentKeyOperationsNeverBreakTheSlotRules() throws Exception {
        CredentialsHttp http = new CredentialsHttp(rest, "cyberdyne");
        String id = http.createCredential("busy");
        String base = "/v1/credentials/" + id + "/keys";
        String expires = "\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(20)) + "\"";

        List<CredentialsHttp.Answer> answers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            List<Future<CredentialsHttp.Answer>> futures = IntStream.range(0, 50).mapToObj(i -> pool.submit(() ->
                    switch (i % 5) {
                        case 0 -> http.post(base, "{" + expires + "}");
                        case 1 -> http.post(base, "{\"slot\":" + (1 + i % 2) + "," + expires + "}");
                        case 2 -> http.post(base + "/" + (1 + i % 2) + "/regenerate", null);
                        case 3 -> http.post(base + "/" + (1 + i % 2) + "/invalidate", null);
                        default -> http.post(base + "/" + (2 - i % 2) + "/regenerate", "{" + expires + "}");
                    })).toList();
            for (Future<CredentialsHttp.Answer> f : futures) {
                answers.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }

        // 503: not confirmed within the deadline on a loaded machine, applied in full or not at all; both are
        // covered by the checks below, which read what was committed
        assertThat(answers).extracting(CredentialsHttp.Answer::status).allSatisfy(s ->
                assertThat(s).isIn(200, 201, 404, 409, 503));
        assertThat(answers).extracting(CredentialsHttp.Answer::status).contains(201);

        // a 503'd command handled just before its deadline may commit a moment after its answer: the three reads
        // below (GET, api-keys, credential events) are retried until they agree; a broken rule stays broken
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertCommittedStateAgrees(http, id, answers));
    }

    private static void assertCommittedStateAgrees(CredentialsHttp http, String id, List<CredentialsHttp.Answer> answers) {
        CredentialsHttp.Answer read = http.get("/v1/credentials/" + id);
        // a 503 while the store restores a task after a timed-out commit: an assertion failure, which the wait retries
        assertThat(read.status()).as(read.body()).isEqualTo(200);
        JsonNode credential = read.json();
        List<JsonNode> keys = new ArrayList<>();
        credential.get("keys").forEach(keys::add);
        assertThat(keys).extracting(k -> k.get("slot").asInt()).doesNotHaveDuplicates().allSatisfy(s ->
                assertThat(s).isIn(1, 2));
        assertThat(keys).filteredOn(k -> k.get("status").asString().equals("active")).hasSizeLessThanOrEqualTo(2);

        // every key issued with 201 is known, and at most one per slot was ever active at once (api-keys history)
        List<ConsumerRecord<String, ApiKeyState>> states = TopicReader.readAllSettled(SharedKafka.bootstrapServers(),
                Topics.API_KEYS).stream().filter(r -> r.value() != null && id.equals(r.value().credentialId())).toList();
        assertThat(states.stream().map(ConsumerRecord::key).collect(Collectors.toSet())).containsAll(answers.stream()
                .filter(a -> a.status() == 201).map(a -> a.json().get("keyId").asString()).toList());
        // all key states of one command share its time: check the invariant after each command, not mid-command
        Map<String, ApiKeyState> latest = new LinkedHashMap<>();
        Map<Instant, List<ApiKeyState>> byCommand = states.stream().map(ConsumerRecord::value).collect(
                Collectors.groupingBy(ApiKeyState::updatedAt, java.util.TreeMap::new, Collectors.toList()));
        for (List<ApiKeyState> batch : byCommand.values()) {
            batch.forEach(s -> latest.put(s.keyId(), s));
            List<ApiKeyState> active = latest.values().stream().filter(s -> s.status() == KeyStatus.ACTIVE).toList();
            assertThat(active).hasSizeLessThanOrEqualTo(2);
            assertThat(active).extracting(ApiKeyState::slot).doesNotHaveDuplicates();
        }

        // the final state is the events replayed
        List<CredentialEvent> events = TopicReader.readAllSettled(SharedKafka.bootstrapServers(), Topics.CREDENTIAL_EVENTS)
                .stream().filter(r -> id.equals(r.key())).map(ConsumerRecord::value).toList();
        assertThat(events).extracting(CredentialEvent::version)
                .containsExactlyElementsOf(IntStream.rangeClosed(1, events.size()).mapToObj(Long::valueOf).toList());
        Credential replayed = null;
        for (CredentialEvent event : events) {
            replayed = Credential.apply(replayed, event);
        }
        assertThat(replayed).isNotNull();
        assertThat(replayed.keys()).extracting(k -> k.slot() + "/" + k.keyId() + "/" + k.status().json())
                .containsExactlyElementsOf(keys.stream().map(k -> k.get("slot").asInt() + "/"
                        + k.get("keyId").asString() + "/" + k.get("status").asString()).toList());
        assertThat(replayed.updatedAt().toString()).isEqualTo(credential.get("updatedAt").asString());
        List<String> activeOnTopic = latest.values().stream().filter(s -> s.status() == KeyStatus.ACTIVE)
                .map(ApiKeyState::keyId).toList();
        assertThat(activeOnTopic).containsExactlyInAnyOrderElementsOf(replayed.keys().stream()
                .filter(k -> k.status() == KeyStatus.ACTIVE).map(k -> k.keyId()).toList());
    }
}
