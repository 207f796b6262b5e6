package io.keymeter.app.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.app.proof.TransactionKills.OpenTransaction;
import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.Credential;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Json;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.testsupport.TopicReader;
import io.keymeter.testsupport.Transactions;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Issue 8, credential-store variant of Kafka's EOS system test: the credential store runs in its own JVM on the
 * test's broker, with a 1 s commit interval so that transactions stay open, while concurrent seeded clients
 * generate, add secondary, regenerate and invalidate keys and edit privileges over HTTP. A scheduler kills the JVM
 * with SIGKILL at random moments and restarts it. Clients treat a lost connection or a 503 as "outcome unknown" and
 * may retry, as real clients do.
 * <p>
 * Afterwards, read with {@code read_committed}: every acknowledged change is on {@code keymeter.credential-events}
 * exactly once (each keyId of a 201 in exactly one key-created/key-regenerated event, each 200 invalidation in exactly
 * one key-invalidated event at the answered time), refused (4xx) calls left nothing, unknown outcomes at most once;
 * no event twice (per credential, versions 1..n without gap or repeat); the latest state of every key on
 * {@code keymeter.api-keys} equals the events replayed with {@link Credential#apply}; never two active keys in a slot
 * or more than two per credential; a read of every credential equals the replay; every key inside the expiring
 * notice got exactly one key-expiring. And the kills did land inside open transactions: each is attempted inside
 * one (frozen first, {@link TransactionKills}; a plain kill when none is found in 30 s), at least one such
 * transaction was still open 1 s after its kill, and aborted records exist.
 * <p>
 * Short version in the test command (~2 min); the long one: {@code -Dproof.credential-ops=5000} (README, "Proof").
 */
@Timeout(900)
class CredentialStoreCrashTest {

    private static final int OPS = Integer.getInteger("proof.credential-ops", 300);
    private static final int KILLS = Integer.getInteger("proof.kills", 3);
    private static final long SEED = Long.getLong("proof.seed", 42);
    /** {@code at_least_once} to see what the check says without transactions (README, "Proof"). */
    private static final String GUARANTEE = System.getProperty("proof.credential-guarantee", "exactly_once_v2");
    private static final boolean EXACTLY_ONCE = GUARANTEE.startsWith("exactly_once");
    private static final int CLIENTS = 8;
    private static final int CREDENTIALS = 4;
    private static final String ACCOUNT = "crash";
    private static final String TOKEN = "crash-token";
    private static final Duration EXPIRING_NOTICE = Duration.ofDays(7);
    private static final Duration HEALTHY_WITHIN = Duration.ofSeconds(180);
    /** Topics the credential store writes in its transactions: a kill inside one leaves aborted records on them. */
    private static final List<String> OUTPUTS = List.of(Topics.CREDENTIAL_EVENTS.name(), Topics.API_KEYS.name(),
            Topics.CREDENTIAL_REPLIES);

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedKeyChangeIsCommittedExactlyOnceAcrossSigkills() throws Exception {
        long started = System.nanoTime();
        Path logs = Files.createDirectories(Path.of("target", "proof-logs"));
        Path log = logs.resolve("credential-store-" + GUARANTEE + ".log");
        Files.deleteIfExists(log);
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start()) {
            String[] args = {"--keymeter.roles=credential-store",
                    "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                    "--keymeter.data-dir=" + dir.resolve("credential-store"),
                    "--keymeter.accounts[0].id=" + ACCOUNT, "--keymeter.accounts[0].token=" + TOKEN,
                    // the topology's own 0 wins over spring.kafka.streams.properties.commit.interval.ms
                    "--" + CredentialStoreConfiguration.COMMIT_INTERVAL + "=PT1S",
                    "--spring.kafka.streams.properties.processing.guarantee=" + GUARANTEE,
                    "--spring.kafka.streams.properties.session.timeout.ms=6000",
                    "--spring.kafka.streams.properties.heartbeat.interval.ms=1500"};
            int kills;
            int killsInside;
            List<Op> ops;
            String bootstrap = broker.bootstrapServers();
            try (Crashes crashes = new Crashes(bootstrap, log, args, new Random(SEED))) {
                Clients clients = new Clients(crashes);
                List<String> credentials = clients.createCredentials();
                crashes.startKilling();
                ops = clients.run(credentials);
                try {
                    await("committed outputs agree with every answer").atMost(Duration.ofSeconds(120))
                            .pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
                                    assertThat(differences(bootstrap, clients, credentials, ops))
                                            .as("differences from the ground truth").isEmpty());
                } finally {
                    dump(bootstrap, ops, logs);
                }
                kills = crashes.kills.get();
                killsInside = crashes.killsInside.get();
            }
            // counted with the instance stopped: records of a transaction open, or committed and not yet marked,
            // counted as aborted while it ran
            long aborted = abortedRecords(bootstrap);
            System.out.printf("CredentialStoreCrashTest %s: %d kills (%d inside a transaction), %d operations %s, %d"
                            + " aborted records, %d s%n", GUARANTEE, kills, killsInside, ops.size(), summary(ops), aborted,
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
            assertThat(kills).isGreaterThanOrEqualTo(KILLS);
            if (EXACTLY_ONCE) {
                assertThat(killsInside).as("kills inside a transaction open on the outputs, still open 1 s after")
                        .isPositive();
                assertThat(aborted).as("records of transactions the kills aborted: kills landed in open"
                        + " transactions").isPositive();
            }
        }
    }

    // ---- the child JVM, killed at random moments ----

    /**
     * The credential store in its own JVM. {@link #up} is the port of the instance that currently answers; it is an
     * incomplete future from just after a kill until the restarted instance is healthy, and clients wait on it.
     */
    private static final class Crashes implements AutoCloseable {
        private final Admin admin;
        private final Path log;
        private final String[] args;
        private final Random random;
        private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        final AtomicInteger kills = new AtomicInteger();
        /** Kills whose transaction was still open 1 s after them: aborted, so the kill landed inside it. */
        final AtomicInteger killsInside = new AtomicInteger();
        final CompletableFuture<Void> killsDone = new CompletableFuture<>();
        private volatile ChildApp child;
        private volatile CompletableFuture<Integer> up;

        Crashes(String bootstrap, Path log, String[] args, Random random) {
            this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
            this.log = log;
            this.args = args;
            this.random = random;
            this.child = new ChildApp(log, args).start().awaitHealthy(HEALTHY_WITHIN);
            this.up = CompletableFuture.completedFuture(child.port());
        }

        int port() throws Exception {
            return up.get(HEALTHY_WITHIN.toSeconds() + 60, TimeUnit.SECONDS);
        }

        void startKilling() {
            scheduleKill();
        }

        /**
         * Looked for from a random moment 2–8 s after the instance became healthy (all tasks RUNNING), while the
         * clients keep it busy; under exactly-once, inside a transaction: one open on the outputs, begun 0.4 to 1 s
         * before, still open 1 s into a SIGSTOP that precedes the kill ({@link TransactionKills#killInsideTransaction}),
         * and counted as inside when it is still open 1 s after the kill (it can then only be aborted). A kill that
         * found none in 30 s is made all the same. Records above the replies' stable end, the check before, were also
         * a transaction already committing (its markers not yet written).
         */
        private void scheduleKill() {
            scheduler.schedule(this::killAndRestart, 2_000 + random.nextInt(6_000), TimeUnit.MILLISECONDS);
        }

        private void killAndRestart() {
            CompletableFuture<Integer> next = new CompletableFuture<>();
            try {
                // clients keep sending until the kill (the port taken away then): a transaction needs their traffic
                Optional<OpenTransaction> open = EXACTLY_ONCE ? killInsideTransaction() : Optional.empty();
                if (open.isEmpty()) {
                    child.kill();
                }
                up = next;
                // before the restart, whose producer would abort (fence) the transaction at once
                open.ifPresent(this::countIfStillOpen);
                int n = kills.incrementAndGet();
                child = new ChildApp(log, args).start().awaitHealthy(HEALTHY_WITHIN);
                next.complete(child.port());
                if (n < KILLS) {
                    scheduleKill();
                } else {
                    killsDone.complete(null);
                }
            } catch (Throwable e) {
                up = next;
                next.completeExceptionally(e);
                killsDone.completeExceptionally(e);
            }
        }

        /** Killed inside the transaction it returns; empty, the instance still running, when none was found. */
        private Optional<OpenTransaction> killInsideTransaction() throws Exception {
            Optional<OpenTransaction> open = TransactionKills.killInsideTransaction(admin, child,
                    () -> Transactions.ids(admin), OUTPUTS, Duration.ofSeconds(30));
            if (open.isEmpty()) {
                System.out.println("no transaction kept open on the outputs within 30 s: the credential store is killed"
                        + " all the same");
            }
            return open;
        }

        /** Still open 1 s after the kill, the transaction can only be aborted: the kill landed inside it. */
        private void countIfStillOpen(OpenTransaction open) {
            boolean inside = TransactionKills.staysOpen(admin, open, OUTPUTS, Duration.ofSeconds(1));
            if (inside) {
                killsInside.incrementAndGet();
            }
            System.out.println("killed the credential store " + (inside ? "inside" : "just after") + " its transaction "
                    + open);
        }

        @Override
        public void close() throws InterruptedException {
            admin.close();
            scheduler.shutdownNow();
            scheduler.awaitTermination(30, TimeUnit.SECONDS);
            child.close();
        }
    }

    // ---- the clients and what they were answered ----

    enum Kind { GENERATE, SECONDARY, REGENERATE, INVALIDATE, PRIVILEGES }

    /** One HTTP call that reached the server (or may have): status -1 = no answer (connection lost, timeout). */
    record Op(int client, Kind kind, String credentialId, Integer slot, String body, Instant sentAt,
              Instant answeredAt, int status, JsonNode answer) {

        boolean acknowledged() {
            return status >= 200 && status < 300;
        }

        boolean refused() {
            return status >= 400 && status < 500;
        }

        boolean unknown() {
            return !acknowledged() && !refused();
        }

        @Override
        public String toString() {
            return "client " + client + " " + kind + " " + credentialId + (slot == null ? "" : " slot " + slot) + " "
                    + body + " sent " + sentAt + " answered " + answeredAt + ": " + status + " " + answer;
        }
    }

    private record Call(Kind kind, String credentialId, Integer slot, String method, String path, String body) {
    }

    private static final class Clients {
        private final Crashes crashes;
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        private final List<Op> ops = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger issued = new AtomicInteger();
        private List<String> privileges;

        Clients(Crashes crashes) {
            this.crashes = crashes;
        }

        /** Before any kill: one 201 per credential (a 503 could leave a stray credential: checked like the others). */
        List<String> createCredentials() throws Exception {
            List<String> catalog = new ArrayList<>();
            send("GET", "/v1/privileges", null).answer().get("privileges")
                    .forEach(p -> catalog.add(p.get("privilege").asString()));
            privileges = List.copyOf(catalog);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < CREDENTIALS; i++) {
                String body = "{\"name\":\"crash-" + i + "\",\"privileges\":[\"" + privileges.get(0) + "\"]}";
                Answer created = await("credential " + i + " created").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> send("POST", "/v1/credentials", body),
                                a -> a.status() == 201);
                ids.add(created.answer().get("id").asString());
            }
            return ids;
        }

        /**
         * {@link #CLIENTS} seeded clients until {@link #OPS} calls are answered (or lost) and every kill is done.
         * After an unknown outcome a client retries the same change half the time (a new key, a new call).
         */
        List<Op> run(List<String> credentials) throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    Random random = new Random(SEED * 31 + client);
                    running.add(pool.submit(() -> {
                        Call retry = null;
                        while (issued.get() < OPS || !crashes.killsDone.isDone()) {
                            Call call = retry != null ? retry : next(random, credentials);
                            Op op = execute(client, call);
                            if (op == null) {
                                continue; // not connected: nothing was sent, send it again to the next instance
                            }
                            ops.add(op);
                            issued.incrementAndGet();
                            retry = op.unknown() && retry == null && random.nextBoolean() ? call : null;
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(15, TimeUnit.MINUTES);
                }
                crashes.killsDone.get(1, TimeUnit.MINUTES);
            } finally {
                pool.shutdownNow();
            }
            return List.copyOf(ops);
        }

        private Call next(Random random, List<String> credentials) {
            String id = credentials.get(random.nextInt(credentials.size()));
            int slot = 1 + random.nextInt(2);
            // about half the keys start inside the 7-day expiring notice: the punctuator announces them
            String expires = "\"expiresAt\":\"" + Instant.now().plus(Duration.ofHours(48 + random.nextInt(240)))
                    .truncatedTo(ChronoUnit.SECONDS) + "\"";
            String keys = "/v1/credentials/" + id + "/keys";
            int roll = random.nextInt(100);
            if (roll < 30) {
                return new Call(Kind.GENERATE, id, null, "POST", keys, "{" + expires + "}");
            } else if (roll < 45) {
                return new Call(Kind.SECONDARY, id, 2, "POST", keys, "{\"slot\":2," + expires + "}");
            } else if (roll < 70) {
                return new Call(Kind.REGENERATE, id, slot, "POST", keys + "/" + slot + "/regenerate",
                        random.nextBoolean() ? "{" + expires + "}" : "{}");
            } else if (roll < 90) {
                return new Call(Kind.INVALIDATE, id, slot, "POST", keys + "/" + slot + "/invalidate", null);
            }
            List<String> chosen = new ArrayList<>(privileges);
            Collections.shuffle(chosen, random);
            String list = chosen.subList(0, 1 + random.nextInt(Math.min(3, chosen.size()))).stream()
                    .map(p -> "\"" + p + "\"").collect(Collectors.joining(","));
            return new Call(Kind.PRIVILEGES, id, null, "PUT", "/v1/credentials/" + id + "/privileges",
                    "{\"privileges\":[" + list + "]}");
        }

        /** The call's outcome, or null if no connection was made (then nothing reached the server). */
        private Op execute(int client, Call call) throws Exception {
            int port = crashes.port();
            Instant sent = Instant.now();
            try {
                Answer a = send(port, call.method(), call.path(), call.body());
                return new Op(client, call.kind(), call.credentialId(), call.slot(), call.body(), sent, Instant.now(),
                        a.status(), a.answer());
            } catch (ConnectException e) {
                return null;
            } catch (IOException e) {
                return new Op(client, call.kind(), call.credentialId(), call.slot(), call.body(), sent, Instant.now(),
                        -1, null);
            }
        }

        /** One call to the instance that is up now (waits for a restart to be healthy). */
        Answer send(String method, String path, String body) throws Exception {
            return send(crashes.port(), method, path, body);
        }

        private Answer send(int port, String method, String path, String body) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                    .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + TOKEN);
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            try {
                json = response.body().isEmpty() ? null : Json.mapper().readTree(response.body());
            } catch (RuntimeException e) {
                // not JSON: kept as null, the status says enough
            }
            return new Answer(response.statusCode(), json);
        }
    }

    private record Answer(int status, JsonNode answer) {
    }

    // ---- the ground truth ----

    /** The events of every credential replayed in order: the final aggregates and the last state of every key. */
    private record Replay(Map<String, List<CredentialEvent>> events, Map<String, Credential> finals,
                          Map<String, Credential.Key> keys, Map<String, Credential> keyOwners) {

        static Replay of(List<ConsumerRecord<String, CredentialEvent>> records, List<String> differences) {
            Map<String, List<CredentialEvent>> events = new LinkedHashMap<>();
            records.forEach(r -> events.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
            Map<String, Credential> finals = new LinkedHashMap<>();
            Map<String, Credential.Key> keys = new HashMap<>();
            Map<String, Credential> owners = new HashMap<>();
            events.forEach((id, list) -> {
                Credential state = null;
                for (int i = 0; i < list.size(); i++) {
                    CredentialEvent e = list.get(i);
                    if (e.version() != i + 1 || !e.eventId().equals(id + "-" + e.version())) {
                        differences.add(id + ": event " + (i + 1) + " is " + e + " (a gap or a repeat)");
                    }
                    state = Credential.apply(state, e);
                    if (state != null) {
                        Credential current = state;
                        List<Credential.Key> active = state.keys().stream()
                                .filter(k -> k.status() == KeyStatus.ACTIVE).toList();
                        if (active.size() > 2 || active.stream().map(Credential.Key::slot).distinct().count()
                                < active.size()) {
                            differences.add(id + ": after version " + e.version() + " active keys " + active);
                        }
                        state.keys().forEach(k -> {
                            keys.put(k.keyId(), k);
                            owners.put(k.keyId(), current);
                        });
                    }
                }
                finals.put(id, state);
            });
            return new Replay(events, finals, keys, owners);
        }

        <T extends CredentialEvent> List<T> of(String credentialId, Class<T> type, Predicate<T> filter) {
            return events.getOrDefault(credentialId, List.of()).stream().filter(type::isInstance).map(type::cast)
                    .filter(filter).toList();
        }

        <T extends CredentialEvent> List<T> all(Class<T> type) {
            return events.values().stream().flatMap(List::stream).filter(type::isInstance).map(type::cast).toList();
        }
    }

    /** Every way the committed outputs and the reads disagree with what the clients were answered; empty = exact. */
    private static List<String> differences(String bootstrap, Clients clients, List<String> credentials, List<Op> ops)
            throws Exception {
        List<String> out = new ArrayList<>();
        Replay replay = Replay.of(TopicReader.readAll(bootstrap, Topics.CREDENTIAL_EVENTS), out);

        // no change twice: one birth, at most one invalidation, expiry and expiring notice per key
        countPerKey(out, "born", replay.all(CredentialEvent.KeyCreated.class).stream().map(CredentialEvent.KeyCreated::keyId),
                replay.all(CredentialEvent.KeyRegenerated.class).stream().map(CredentialEvent.KeyRegenerated::keyId));
        countPerKey(out, "invalidated", replay.all(CredentialEvent.KeyInvalidated.class).stream()
                .map(CredentialEvent.KeyInvalidated::keyId));
        countPerKey(out, "expired", replay.all(CredentialEvent.KeyExpired.class).stream()
                .map(CredentialEvent.KeyExpired::keyId));
        countPerKey(out, "announced expiring", replay.all(CredentialEvent.KeyExpiring.class).stream()
                .map(CredentialEvent.KeyExpiring::keyId));

        for (Op op : ops) {
            if (op.status() >= 500 && op.status() != 503) {
                out.add("answered " + op.status() + ": " + op);
            }
            if (!op.acknowledged()) {
                continue;
            }
            String id = op.credentialId();
            switch (op.kind()) {
                case GENERATE, SECONDARY, REGENERATE -> {
                    String keyId = op.answer().get("keyId").asString();
                    int slot = op.answer().get("slot").asInt();
                    List<? extends CredentialEvent> births = op.kind() == Kind.REGENERATE
                            ? replay.of(id, CredentialEvent.KeyRegenerated.class, e -> e.keyId().equals(keyId)
                                    && e.slot() == slot)
                            : replay.of(id, CredentialEvent.KeyCreated.class, e -> e.keyId().equals(keyId)
                                    && e.slot() == slot);
                    if (births.size() != 1 || (op.slot() != null && op.slot() != slot)) {
                        out.add("201 " + keyId + " in " + births.size() + " matching events: " + op);
                    } else if (!within(births.get(0).at(), op)) {
                        out.add("event " + births.get(0) + " not within the call " + op);
                    }
                }
                case INVALIDATE -> {
                    JsonNode key = keyInSlot(op.answer(), op.slot());
                    List<CredentialEvent.KeyInvalidated> matching = key == null ? List.of()
                            : replay.of(id, CredentialEvent.KeyInvalidated.class, e ->
                                    e.keyId().equals(key.get("keyId").asString()) && e.reason().equals("invalidated")
                                            && e.at().equals(instant(key, "invalidatedAt")));
                    if (matching.size() != 1) {
                        out.add("200 invalidation in " + matching.size() + " matching events: " + op);
                    }
                }
                case PRIVILEGES -> {
                    Instant at = instant(op.answer(), "updatedAt");
                    List<String> requested = strings(Json.mapper().readTree(op.body()).get("privileges"));
                    if (replay.of(id, CredentialEvent.PrivilegesChanged.class, e -> e.at().equals(at)
                            && e.privileges().equals(requested)).isEmpty()) {
                        out.add("200 privilege edit without its event: " + op);
                    }
                }
            }
        }

        // per credential and kind of change: acknowledged <= events <= acknowledged + unknown; refusals left nothing
        for (String id : credentials) {
            bounds(out, id, "key-created", replay.of(id, CredentialEvent.KeyCreated.class, e -> true).size(), ops,
                    op -> op.kind() == Kind.GENERATE || op.kind() == Kind.SECONDARY);
            bounds(out, id, "key-regenerated", replay.of(id, CredentialEvent.KeyRegenerated.class, e -> true).size(),
                    ops, op -> op.kind() == Kind.REGENERATE);
            bounds(out, id, "key-invalidated (invalidated)", replay.of(id, CredentialEvent.KeyInvalidated.class,
                    e -> e.reason().equals("invalidated")).size(), ops, op -> op.kind() == Kind.INVALIDATE);
            bounds(out, id, "privileges-changed", replay.of(id, CredentialEvent.PrivilegesChanged.class, e -> true)
                    .size(), ops, op -> op.kind() == Kind.PRIVILEGES);
        }

        // keymeter.api-keys, latest per key, equals the replay; the invariants hold after every command
        Map<String, ApiKeyState> latest = new HashMap<>();
        Map<String, TreeMap<Instant, List<ApiKeyState>>> history = new HashMap<>();
        for (ConsumerRecord<String, ApiKeyState> r : TopicReader.readAll(bootstrap, Topics.API_KEYS)) {
            if (r.value() != null) {
                latest.put(r.key(), r.value());
                history.computeIfAbsent(r.value().credentialId(), c -> new TreeMap<>())
                        .computeIfAbsent(r.value().updatedAt(), t -> new ArrayList<>()).add(r.value());
            }
        }
        history.forEach((id, byCommand) -> {
            Map<String, ApiKeyState> sofar = new HashMap<>();
            byCommand.forEach((at, states) -> {
                states.forEach(s -> sofar.put(s.keyId(), s));
                List<Integer> activeSlots = sofar.values().stream().filter(s -> s.status() == KeyStatus.ACTIVE)
                        .map(ApiKeyState::slot).toList();
                if (activeSlots.size() > 2 || activeSlots.stream().distinct().count() < activeSlots.size()) {
                    out.add("api-keys of " + id + " at " + at + ": active in slots " + activeSlots);
                }
            });
        });
        if (!latest.keySet().equals(replay.keys().keySet())) {
            out.add("keys on api-keys and in the replay differ: only on api-keys "
                    + minus(latest.keySet(), replay.keys().keySet()) + ", only replayed "
                    + minus(replay.keys().keySet(), latest.keySet()));
        }
        replay.keys().forEach((keyId, key) -> {
            ApiKeyState state = latest.get(keyId);
            Credential owner = replay.keyOwners().get(keyId);
            if (state != null && (state.status() != key.status() || state.slot() != key.slot()
                    || !state.expiresAt().equals(key.expiresAt()) || !state.credentialId().equals(owner.id())
                    || !state.accountId().equals(owner.accountId())
                    || key.status() == KeyStatus.ACTIVE && !state.privileges().equals(owner.privileges()))) {
                out.add("api-keys " + state + " " + state.privileges() + " but replayed " + key + " "
                        + owner.privileges());
            }
        });

        // every key inside the notice got its key-expiring once (the punctuator runs every second)
        Instant now = Instant.now();
        replay.keys().forEach((keyId, key) -> {
            if (key.isActiveAt(now) && !key.expiresAt().minus(EXPIRING_NOTICE).isAfter(now.minusSeconds(5))
                    && !key.expiringNotified()) {
                out.add("no key-expiring for " + key);
            }
        });

        // a read of each credential (from the store the restarted instances restored) equals the replay
        for (String id : credentials) {
            Answer read = clients.send("GET", "/v1/credentials/" + id, null);
            Credential replayed = replay.finals().get(id);
            if (read.status() != 200 || replayed == null) {
                out.add("GET " + id + " answered " + read + ", replayed " + replayed);
                continue;
            }
            List<String> readKeys = new ArrayList<>();
            read.answer().get("keys").forEach(k -> readKeys.add(k.get("slot").asInt() + "/" + k.get("keyId").asString()
                    + "/" + k.get("status").asString() + "/" + instant(k, "expiresAt") + "/"
                    + instant(k, "invalidatedAt") + "/" + text(k, "invalidationReason")));
            List<String> replayedKeys = replayed.keys().stream().map(k -> k.slot() + "/" + k.keyId() + "/"
                    + k.statusAt(now).json() + "/" + k.expiresAt() + "/" + k.invalidatedAt() + "/"
                    + k.invalidationReason()).toList();
            if (!readKeys.equals(replayedKeys) || !instant(read.answer(), "updatedAt").equals(replayed.updatedAt())
                    || !strings(read.answer().get("privileges")).equals(replayed.privileges())) {
                out.add("GET " + id + " " + read.answer() + " but replayed " + replayed);
            }
        }
        return out;
    }

    /** Acknowledged calls of this kind <= its events <= acknowledged + unknown: a refusal (4xx) left no event. */
    private static void bounds(List<String> out, String credentialId, String event, int events, List<Op> ops,
                               Predicate<Op> kind) {
        List<Op> mine = ops.stream().filter(op -> op.credentialId().equals(credentialId)).filter(kind).toList();
        long acknowledged = mine.stream().filter(Op::acknowledged).count();
        long unknown = mine.stream().filter(Op::unknown).count();
        if (events < acknowledged || events > acknowledged + unknown) {
            out.add(credentialId + ": " + events + " " + event + " events for " + acknowledged + " acknowledged, "
                    + unknown + " unknown and " + mine.stream().filter(Op::refused).count() + " refused calls");
        }
    }

    @SafeVarargs
    private static void countPerKey(List<String> out, String what, java.util.stream.Stream<String>... keyIds) {
        java.util.stream.Stream.of(keyIds).flatMap(s -> s)
                .collect(Collectors.groupingBy(k -> k, Collectors.counting()))
                .forEach((keyId, n) -> {
                    if (n > 1) {
                        out.add("key " + keyId + " " + what + " " + n + " times");
                    }
                });
    }

    /**
     * The event was decided during the call, not replayed later (same machine clock; the stream thread's cached clock
     * may lag the caller's by a little, hence the second of slack before the call).
     */
    private static boolean within(Instant at, Op op) {
        return !at.isBefore(op.sentAt().minusSeconds(1)) && !at.isAfter(op.answeredAt());
    }

    private static JsonNode keyInSlot(JsonNode credential, int slot) {
        for (JsonNode key : credential.get("keys")) {
            if (key.get("slot").asInt() == slot) {
                return key;
            }
        }
        return null;
    }

    private static Instant instant(JsonNode node, String field) {
        String text = text(node, field);
        return text == null ? null : Instant.parse(text);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return out;
    }

    private static List<String> minus(java.util.Set<String> a, java.util.Set<String> b) {
        return a.stream().filter(x -> !b.contains(x)).sorted().toList();
    }

    /** Records of aborted transactions on the store's outputs. */
    private static long abortedRecords(String bootstrap) {
        return TopicReader.abortedRecords(bootstrap, OUTPUTS);
    }

    private static String summary(List<Op> ops) {
        Map<String, Long> byStatus = new TreeMap<>(ops.stream().collect(Collectors.groupingBy(
                op -> op.kind() + " " + (op.status() < 0 ? "lost" : String.valueOf(op.status())), Collectors.counting())));
        return byStatus.toString();
    }

    /** The committed topics and every call, for diagnosis, in target/proof-logs. */
    private static void dump(String bootstrap, List<Op> ops, Path logs) throws IOException {
        Files.write(logs.resolve("credential-crash-calls.txt"), ops.stream().map(Op::toString).toList());
        Files.write(logs.resolve("credential-crash-events.txt"), TopicReader.readAll(bootstrap,
                Topics.CREDENTIAL_EVENTS).stream().map(r -> r.partition() + "@" + r.offset() + " " + r.value()).toList());
        Files.write(logs.resolve("credential-crash-api-keys.txt"), TopicReader.readAll(bootstrap, Topics.API_KEYS)
                .stream().map(r -> r.partition() + "@" + r.offset() + " " + r.value() + " "
                        + (r.value() == null ? "" : r.value().privileges())).toList());
    }
}
