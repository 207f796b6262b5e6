package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.events.Json;
import io.keymeter.kafka.FreePorts;
import io.keymeter.platform.PlatformConfiguration;
import io.keymeter.platform.security.ForwardedCalls;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;

/** Two instances of the credential store on one broker: a read answers wherever the credential's partition lives. */
class ReadForwardingTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import({PlatformConfiguration.class, CredentialStoreConfiguration.class})
    static class CredentialStoreOnly {
    }

    /** How long a change's call may wait for its reply, the commit interval at its default (none). */
    private static final Duration CREATE_ANSWERED_WITHIN = CommandBus.replyWait(Duration.ZERO);

    private final HttpClient http = HttpClient.newHttpClient();
    /** Signs reads as another instance forwards them. */
    private ForwardedCalls signer;

    @Test
    @Timeout(300) // a backstop on a loaded machine, whose waits have bounds of their own; it takes some 30 s
    void readsAreAnsweredByWhicheverInstanceOwnsTheCredential() throws Exception {
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        try (ConfigurableApplicationContext a = start(portA); ConfigurableApplicationContext b = start(portB)) {
            signer = a.getBean(ForwardedCalls.class);
            KafkaStreams streamsA = a.getBean(CredentialStoreConfiguration.STREAMS, StreamsApp.class).kafkaStreams();
            KafkaStreams streamsB = b.getBean(CredentialStoreConfiguration.STREAMS, StreamsApp.class).kafkaStreams();
            await().atMost(Duration.ofSeconds(90)).until(() -> bothOwnPartitions(streamsA) && bothOwnPartitions(streamsB)
                    && streamsA.state() == KafkaStreams.State.RUNNING && streamsB.state() == KafkaStreams.State.RUNNING);

            List<String> ids = new ArrayList<>();
            // eight ids spread over six partitions all land on one instance now and then: create more until both own some
            while (ids.size() < 8 || !ownedByBoth(streamsA, ids, portA, portB)) {
                assertThat(ids).as("after 40 credentials one instance still owns them all").hasSizeLessThan(40);
                // a create may wait CREATE_ANSWERED_WITHIN for its reply on a loaded machine: a client time-out is
                // tried again
                String id = Json.mapper().readTree(await().atMost(Duration.ofSeconds(90))
                        .ignoreExceptionsInstanceOf(IOException.class).until(() -> send(portA, "POST",
                        "/v1/credentials", "acme", "{\"name\":\"c" + ids.size() + "\",\"privileges\":[\"premium:user:basemaps\"]}"),
                        r -> r.statusCode() == 201).body()).get("id").asString();
                ids.add(id);
            }

            for (String id : ids) {
                for (int port : List.of(portA, portB)) {
                    HttpResponse<String> read = send(port, "GET", "/v1/credentials/" + id, "acme", null);
                    assertThat(read.statusCode()).as("read of %s on %d: %s", id, port, read.body()).isEqualTo(200);
                    assertThat(Json.mapper().readTree(read.body()).get("id").asString()).isEqualTo(id);
                    // forwarded or not, the version a conditional change (If-Match) is made over
                    assertThat(read.headers().firstValue("ETag")).as("ETag of %s on %d", id, port).contains("\"1\"");
                    assertThat(send(port, "GET", "/v1/credentials/" + id, "globex", null).statusCode())
                            .as("another account, forwarded or not").isEqualTo(404);
                    // the caller's Accept reaches the owner: forwarded without it, this was a 200 in JSON
                    HttpResponse<String> csv = http.send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + port + "/v1/credentials/" + id))
                            .header("Authorization", "Bearer token-acme").header("Accept", "text/csv")
                            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(csv.statusCode()).as("read of %s on %d accepting CSV only: %s", id, port, csv.body())
                            .isEqualTo(406);
                }
            }
            // an instance asked for a credential whose partition it does not own (a read forwarded just before a
            // rebalance moved it): 503 with Retry-After, never a 404 saying an existing credential is gone
            for (String id : ids) {
                int other = ownerPort(streamsA, id) == portA ? portB : portA;
                HttpResponse<String> stale = send(other, "GET", "/v1/credentials/" + id, "acme", null, true);
                assertThat(stale.statusCode()).as("forwarded read of %s on %d: %s", id, other, stale.body()).isEqualTo(503);
                assertThat(stale.headers().firstValue("Retry-After")).isPresent();
            }
            // a create answered 503 and retried may still have been applied: the lists hold every id, and agree
            List<List<String>> lists = new ArrayList<>();
            for (int port : List.of(portA, portB)) {
                HttpResponse<String> list = send(port, "GET", "/v1/credentials", "acme", null);
                assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
                lists.add(Json.mapper().readTree(list.body()).get("credentials").findValuesAsString("id"));
            }
            assertThat(lists.get(0)).containsAll(ids).containsExactlyInAnyOrderElementsOf(lists.get(1));

            // a forwarded list says which partitions it read: the ones its instance owns
            for (int port : List.of(portA, portB)) {
                HttpResponse<String> part = send(port, "GET", "/v1/credentials", "acme", null, true);
                assertThat(part.headers().firstValue(ReadForwarder.PARTITIONS).map(ReadForwarder::partitions))
                        .as("partitions read on %d", port).contains(partitionsOf(streamsA, port));
            }
            // a caller's own call marked as forwarded is a caller's call: the whole list, a read forwarded to its owner
            // (taken as forwarded, the list held this instance's partitions only and the read was a 503)
            for (int port : List.of(portA, portB)) {
                HttpResponse<String> marked = send(port, "GET", "/v1/credentials", "acme", null, false, true);
                assertThat(marked.statusCode()).as(marked.body()).isEqualTo(200);
                assertThat(marked.headers().firstValue(ReadForwarder.PARTITIONS)).isEmpty();
                assertThat(Json.mapper().readTree(marked.body()).get("credentials").findValuesAsString("id"))
                        .containsExactlyInAnyOrderElementsOf(lists.get(0));
            }
            for (String id : ids) {
                int other = ownerPort(streamsA, id) == portA ? portB : portA;
                HttpResponse<String> marked = send(other, "GET", "/v1/credentials/" + id, "acme", null, false, true);
                assertThat(marked.statusCode()).as("marked read of %s on %d: %s", id, other, marked.body()).isEqualTo(200);
            }

            // B leaves: its partitions move to A, which restores them. While they move a list is whole or a 503,
            // never a list without the moving credentials; then A answers whole lists alone
            CompletableFuture<Void> closing = CompletableFuture.runAsync(b::close);
            AtomicInteger unavailable = new AtomicInteger();
            AtomicInteger wholeAfter = new AtomicInteger();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> {
                boolean alone = closing.isDone() && ownsAll(streamsA);
                HttpResponse<String> list = send(portA, "GET", "/v1/credentials", "acme", null);
                if (list.statusCode() == 503) {
                    unavailable.incrementAndGet();
                    return false;
                }
                assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
                assertThat(Json.mapper().readTree(list.body()).get("credentials").findValuesAsString("id"))
                        .as("a list while B leaves (after %d 503s)", unavailable.get())
                        .containsExactlyInAnyOrderElementsOf(lists.get(0));
                return alone && wholeAfter.incrementAndGet() >= 5;
            });
            closing.join(); // B's close failing fails the test
        }
    }

    private static java.util.Set<Integer> partitionsOf(KafkaStreams streams, int port) {
        return streams.streamsMetadataForStore(CredentialTopology.STORE).stream()
                .filter(m -> m.hostInfo().port() == port)
                .flatMap(m -> m.topicPartitions().stream())
                .filter(p -> p.topic().equals(CredentialTopics.COMMANDS.name()))
                .map(org.apache.kafka.common.TopicPartition::partition).collect(java.util.stream.Collectors.toSet());
    }

    private static boolean ownsAll(KafkaStreams streams) {
        return streams.state() == KafkaStreams.State.RUNNING && streams.metadataForAllStreamsClients().size() == 1;
    }

    private static boolean bothOwnPartitions(KafkaStreams streams) {
        return streams.metadataForAllStreamsClients().stream().map(StreamsMetadata::topicPartitions)
                .filter(p -> !p.isEmpty()).count() == 2;
    }

    /** Both instances own some of the ids, so some reads are forwarded. */
    private static boolean ownedByBoth(KafkaStreams streams, List<String> ids, int portA, int portB) {
        return ids.stream().anyMatch(id -> ownerPort(streams, id) == portA) && ids.stream().anyMatch(id -> ownerPort(streams, id) == portB);
    }

    private static int ownerPort(KafkaStreams streams, String id) {
        return streams.queryMetadataForKey(CredentialTopology.STORE, id, Serdes.String().serializer()).activeHost().port();
    }

    private HttpResponse<String> send(int port, String method, String path, String account, String json)
            throws IOException, InterruptedException {
        return send(port, method, path, account, json, false);
    }

    private HttpResponse<String> send(int port, String method, String path, String account, String json,
                                      boolean forwarded) throws IOException, InterruptedException {
        return send(port, method, path, account, json, forwarded, false);
    }

    /**
     * {@code forwarded}: signed and marked as another instance forwards a read; {@code markedOnly}: the caller's own
     * call with the marker added.
     */
    private HttpResponse<String> send(int port, String method, String path, String account, String json,
                                      boolean forwarded, boolean markedOnly) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", forwarded
                        ? signer.authorizationFor("token-" + account, URI.create(path)).orElseThrow()
                        : "Bearer token-" + account)
                .timeout(CREATE_ANSWERED_WITHIN.plusSeconds(5)); // and a forwarded read's hop
        if (forwarded || markedOnly) {
            request.header(ReadForwarder.HEADER, "1");
        }
        if (json == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static ConfigurableApplicationContext start(int port) throws IOException {
        return new SpringApplicationBuilder(CredentialStoreOnly.class)
                // command-line arguments: the highest precedence, whatever configuration files are on the classpath
                .run("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                        "--keymeter.data-dir=" + TempDirs.create("keymeter-forwarding"),
                        "--keymeter.roles=credential-store",
                        "--keymeter.accounts[0].id=acme",
                        "--keymeter.accounts[0].token=token-acme",
                        "--keymeter.accounts[1].id=globex",
                        "--keymeter.accounts[1].token=token-globex",
                        "--keymeter.gateway-tokens[0]=gateway",
                        "--keymeter.credentials.advertised-host=localhost",
                        "--server.port=" + port);
    }
}
