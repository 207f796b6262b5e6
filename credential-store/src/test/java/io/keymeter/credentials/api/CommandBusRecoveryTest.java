package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.CommandReply;
import io.keymeter.credentials.lifecycle.CredentialCommand;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.kafka.FreePorts;
import io.keymeter.platform.PlatformConfiguration;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/** The consumer that reads change confirmations fails while the store runs: changes are confirmed again. */
class CommandBusRecoveryTest {

    /** How many polls are still to fail; set by the test. */
    static final AtomicInteger failingPolls = new AtomicInteger();
    /** When set, the next poll that reads replies throws them away (once). */
    static final AtomicBoolean failAfterReading = new AtomicBoolean();
    /** When set, the next poll throws it (once): an {@code Error} the reader may or may not survive. */
    static final AtomicReference<Error> errorOnPoll = new AtomicReference<>();
    /** When set, the next poll that reads replies throws it instead (once). */
    static final AtomicReference<Error> errorAfterReading = new AtomicReference<>();
    /** While set, no replacement consumer can be opened. */
    static final AtomicBoolean opensFail = new AtomicBoolean();
    /** Replies read that were written before this time (epoch ms), counted in {@link #olderRepliesRead}. */
    static final AtomicLong repliesWrittenSince = new AtomicLong(Long.MIN_VALUE);
    static final AtomicInteger olderRepliesRead = new AtomicInteger();
    /** While set, commands are sent but their acks never come back (a lost produce response, a long pause). */
    static final AtomicBoolean acksLate = new AtomicBoolean();
    /** While set, every send fails as Kafka refusing the record would. */
    static final AtomicBoolean sendsFail = new AtomicBoolean();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import({PlatformConfiguration.class, CredentialStoreConfiguration.class})
    static class CredentialStoreWithFailingReplies {

        /** Replaces the scanned bus: its reply consumers fail {@link #failingPolls} polls, then work. */
        @Bean
        CommandBus commandBus(KafkaClients clients, KafkaTopics topics, Clock clock,
                              @Value("${" + CredentialStoreConfiguration.COMMIT_INTERVAL + ":PT0S}") Duration commitInterval,
                              @Qualifier(CredentialStoreConfiguration.STREAMS) StreamsApp store) {
            return new CommandBus(clients, topics, clock, commitInterval, store) {
                @Override
                KafkaProducer<String, CredentialCommand> newProducer(Map<String, Object> config) {
                    return new KafkaProducer<>(config, CredentialTopics.COMMANDS.keySerde().serializer(),
                            CredentialTopics.COMMANDS.valueSerde().serializer()) {
                        @Override
                        public Future<RecordMetadata> send(ProducerRecord<String, CredentialCommand> record,
                                                           Callback callback) {
                            if (sendsFail.get()) {
                                RecordTooLargeException refused = new RecordTooLargeException("injected: refused");
                                callback.onCompletion(null, refused);
                                return CompletableFuture.failedFuture(refused);
                            }
                            if (acksLate.get()) {
                                super.send(record, null); // written and applied; its ack is not heard of in the call
                                return new CompletableFuture<>();
                            }
                            return super.send(record, callback);
                        }
                    };
                }

                @Override
                KafkaConsumer<String, CommandReply> newConsumer(Map<String, Object> config) {
                    if (opensFail.get()) {
                        throw new KafkaException("injected: no consumer can be opened");
                    }
                    // a real consumer whose polls throw while failingPolls is above zero, as a broken fetch would
                    return new KafkaConsumer<>(config, CredentialTopics.REPLIES.keySerde().deserializer(),
                            CredentialTopics.REPLIES.valueSerde().deserializer()) {
                        @Override
                        public ConsumerRecords<String, CommandReply> poll(Duration timeout) {
                            Error error = errorOnPoll.getAndSet(null);
                            if (error != null) {
                                throw error;
                            }
                            if (failingPolls.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                                throw new KafkaException("injected: the replies fetch failed");
                            }
                            ConsumerRecords<String, CommandReply> records = super.poll(timeout);
                            records.forEach(r -> {
                                if (r.timestamp() < repliesWrittenSince.get()) {
                                    olderRepliesRead.incrementAndGet();
                                }
                            });
                            if (!records.isEmpty() && failAfterReading.compareAndSet(true, false)) {
                                throw new KafkaException("injected: failed with " + records.count() + " replies read");
                            }
                            Error after = records.isEmpty() ? null : errorAfterReading.getAndSet(null);
                            if (after != null) {
                                throw after;
                            }
                            return records;
                        }
                    };
                }
            };
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void noFailureLeftForTheNextTest() {
        failingPolls.set(0);
        failAfterReading.set(false);
        errorOnPoll.set(null);
        errorAfterReading.set(null);
        opensFail.set(false);
        repliesWrittenSince.set(Long.MIN_VALUE);
        acksLate.set(false);
        sendsFail.set(false);
    }

    /**
     * A command's ack comes late while its reply is there: the call answers with the change. Before, it waited on the
     * ack first, 5 s, and answered 503 "not confirmed in time" for a key generated meanwhile, whose only copy of the
     * secret was in the answer it never gave. A send Kafka refuses still ends the call at once, nothing applied.
     */
    @Test
    @Timeout(120)
    void aChangeWhoseAckComesLateIsAnsweredByItsReply() throws Exception {
        try (ConfigurableApplicationContext store = start(FreePorts.next())) {
            int port = confirmingChanges(store);
            String id = create(port, "late ack").body().replaceAll(".*\"id\":\"([0-9a-f-]{36})\".*", "$1");

            acksLate.set(true);
            HttpResponse<String> generated = post(port, "/v1/credentials/" + id + "/keys",
                    "{\"expiresAt\":\"" + Instant.now().plus(Duration.ofDays(3)) + "\"}");
            assertThat(generated.statusCode()).as(generated.body()).isEqualTo(201);
            assertThat(generated.body()).containsPattern("\"apiKey\":\"[^\"]{20,}\"");

            acksLate.set(false);
            sendsFail.set(true);
            HttpResponse<String> refused = create(port, "refused");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("Kafka cannot take the change now; nothing was applied.");
        }
    }

    /**
     * A call whose thread is interrupted while it waits (a shutdown that outlasted the drain) was sent: the store may
     * still apply it. It was a plain 503 with Retry-After 1 s, which invited a retry that could apply a regeneration
     * twice; now it says so, as a release does, with a Retry-After until the store can no longer apply it.
     */
    @Test
    @Timeout(120)
    void aCallInterruptedWhileWaitingIsToldTheChangeMayStillBeAppliedAndWhenToLook() throws Exception {
        try (ConfigurableApplicationContext store = start(FreePorts.next())) {
            confirmingChanges(store);
            CommandBus bus = store.getBean(CommandBus.class);
            AtomicReference<Throwable> answer = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                Thread.currentThread().interrupt(); // its wait for the reply ends at once, after the send
                try {
                    bus.send(new CredentialCommand.CreateCredential(UUID.randomUUID().toString(),
                            UUID.randomUUID().toString(), "acme", bus.deadline(), "interrupted",
                            List.of("premium:user:basemaps"), List.of(), List.of()));
                } catch (Throwable t) {
                    answer.set(t);
                }
            });
            caller.start();
            caller.join(30_000);

            assertThat(answer.get()).isInstanceOf(CommandBus.Unconfirmed.class).hasMessage("Interrupted while waiting"
                    + " for the change; it was applied in full or not at all. Read the credential before retrying.");
            assertThat(((CommandBus.Unconfirmed) answer.get()).retryAfter()).isGreaterThan(CommandBus.RETRY_AFTER);
        }
    }

    /**
     * The reader ends on an Error with the reply to a waiting change just read: the caller is answered at once that
     * the change cannot be confirmed (before, it waited out the whole reply wait, 25 s, for a reply no reader would
     * deliver, and was then told it was not confirmed in time).
     */
    @Test
    @Timeout(120)
    void aChangeWaitingWhenTheReaderEndsIsAnsweredAtOnce() throws Exception {
        try (ConfigurableApplicationContext store = start(FreePorts.next())) {
            int port = confirmingChanges(store);

            errorAfterReading.set(new LinkageError("injected"));
            HttpResponse<String> waiting = create(port, "waiting");
            assertThat(errorAfterReading.get()).as("the injected error happened").isNull();
            assertThat(waiting.statusCode()).isEqualTo(503);
            assertThat(waiting.body()).contains("cannot be confirmed: the credential store stopped reading confirmations",
                    "applied in full or not at all").doesNotContain("in time");
            // a create names the credential it would have made: its id is made by the server, and the caller had
            // nothing to read before retrying
            assertThat(waiting.body()).containsPattern("Read /v1/credentials/[0-9a-f-]{36} before retrying");
            // released at once, long before the store stops being able to apply it: told to wait until then
            assertThat(Long.parseLong(waiting.headers().firstValue("Retry-After").orElseThrow()))
                    .isGreaterThan(CommandBus.RETRY_AFTER.toSeconds());
        }
    }

    @Test
    @Timeout(120)
    void changesAreConfirmedAgainAfterTheReplyConsumerFails() throws Exception {
        try (ConfigurableApplicationContext store = start(FreePorts.next())) {
            int port = confirmingChanges(store);

            // one failure, then three in a row (each replacement fails too): changes are confirmed again after both
            for (int failures : new int[] {1, 3}) {
                olderRepliesRead.set(0);
                repliesWrittenSince.set(System.currentTimeMillis());
                failingPolls.set(failures);
                await().atMost(Duration.ofSeconds(15)).until(() -> failingPolls.get() == 0);
                // before, the failed consumer was not replaced: every change answered 503 until a restart
                HttpResponse<String> after = await().alias("a change confirmed after " + failures + " failed polls")
                        .atMost(Duration.ofSeconds(30)).until(() -> create(port, "after"), r -> r.statusCode() != 503);
                assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
                // the replacement went on where the failed consumer was: it reread every reply (Kafka's
                // seekToBeginning takes an empty list as every partition), a change waiting behind them all
                assertThat(olderRepliesRead.get()).as("replies read again after %d failed polls", failures).isZero();
            }
            repliesWrittenSince.set(Long.MIN_VALUE);

            // the consumer fails with the reply to a waiting change just read: its replacement reads it again
            failAfterReading.set(true);
            HttpResponse<String> waiting = create(port, "waiting");
            assertThat(failAfterReading).as("the injected failure happened").isFalse();
            assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(201);
        }
    }

    @Test
    @Timeout(120)
    void healthSaysWhileChangesCannotBeConfirmed() throws Exception {
        try (ConfigurableApplicationContext store = start(FreePorts.next())) {
            int port = confirmingChanges(store);
            HealthIndicator health = store.getBean(CredentialChangesHealthIndicator.class);
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);

            // every replacement fails: DOWN with the failure while changes answer 503 (before, health stayed UP)
            failingPolls.set(Integer.MAX_VALUE);
            Health failing = await().atMost(Duration.ofSeconds(15)).until(health::health, h -> h.getStatus().equals(Status.DOWN));
            assertThat(String.valueOf(failing.getDetails().get("reason"))).contains("injected: the replies fetch failed");
            assertThat(create(port, "while failing").statusCode()).isEqualTo(503);
            failingPolls.set(0);
            await().atMost(Duration.ofSeconds(15)).until(() -> health.health().getStatus().equals(Status.UP));
            assertThat(create(port, "recovered").statusCode()).isEqualTo(201);

            // the replacement cannot be opened: the reason says so, not that a new consumer reads on
            opensFail.set(true);
            failingPolls.set(1);
            await().atMost(Duration.ofSeconds(15)).until(() -> String.valueOf(health.health().getDetails().get("reason"))
                    .contains("could not open a replies consumer (org.apache.kafka.common.KafkaException: injected: no consumer"));
            opensFail.set(false);
            await().atMost(Duration.ofSeconds(15)).until(() -> health.health().getStatus().equals(Status.UP));

            // out of memory in the reader is survived like a failed poll (it used to end the reader)
            errorOnPoll.set(new OutOfMemoryError("injected"));
            await().atMost(Duration.ofSeconds(15)).until(() -> errorOnPoll.get() == null);
            HttpResponse<String> afterOom = await().atMost(Duration.ofSeconds(30))
                    .until(() -> create(port, "after oom"), r -> r.statusCode() != 503);
            assertThat(afterOom.statusCode()).as(afterOom.body()).isEqualTo(201);

            // any other Error ends the reader: every change 503 at once, health DOWN asking for a restart
            errorOnPoll.set(new LinkageError("injected"));
            Health ended = await().atMost(Duration.ofSeconds(15)).until(health::health, h -> h.getStatus().equals(Status.DOWN));
            assertThat(String.valueOf(ended.getDetails().get("reason"))).contains("LinkageError: injected", "restart Keymeter");
            HttpResponse<String> refused = create(port, "after the reader ended");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("cannot read change confirmations");
        }
    }

    /** The store's port, once a change is confirmed there (201). */
    private int confirmingChanges(ConfigurableApplicationContext store) {
        int port = store.getEnvironment().getProperty("local.server.port", Integer.class);
        assertThat(await().atMost(Duration.ofSeconds(60)).until(() -> create(port, "before"), r -> r.statusCode() != 503)
                .statusCode()).isEqualTo(201);
        return port;
    }

    private HttpResponse<String> create(int port, String name) throws IOException, InterruptedException {
        return post(port, "/v1/credentials", "{\"name\":\"" + name + "\",\"privileges\":[\"premium:user:basemaps\"]}");
    }

    private HttpResponse<String> post(int port, String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Bearer token-acme").header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static ConfigurableApplicationContext start(int port) throws IOException {
        return new SpringApplicationBuilder(CredentialStoreWithFailingReplies.class)
                .run("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                        "--spring.main.allow-bean-definition-overriding=true",
                        "--keymeter.data-dir=" + TempDirs.create("keymeter-replies"),
                        "--keymeter.roles=credential-store",
                        "--keymeter.accounts[0].id=acme",
                        "--keymeter.accounts[0].token=token-acme",
                        "--keymeter.gateway-tokens[0]=gateway",
                        "--keymeter.credentials.advertised-host=localhost",
                        "--server.port=" + port);
    }
}
