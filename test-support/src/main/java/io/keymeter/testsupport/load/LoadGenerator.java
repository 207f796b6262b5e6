package io.keymeter.testsupport.load;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.RequestLog;
import io.keymeter.events.ServiceCatalog;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A seeded generator of realistic traffic with a ground-truth {@link Ledger}, modelled on Kafka's EOS test driver.
 * Several accounts and credentials; keys in both slots; in the middle of the run a rotation (secondary key, then
 * the first regenerated), an invalidation and a privilege edit; a key that expires; requests across several UTC days
 * and a month boundary; resent requestIds; late requests; unknown, expired and invalidated keys; wrong referrers;
 * unprivileged services; items outside item access. The same seed gives the same scenario.
 */
public final class LoadGenerator {

    private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final Duration EDGE_MARGIN = Duration.ofSeconds(2);

    /**
     * @param start      time of the first request; choose it so [start, start + span) crosses a month boundary
     * @param resendRate share of requests sent again with the same requestId (billed once)
     * @param lateRate   share of requests sent well after requests with later timestamps
     */
    public record Settings(long seed, int accounts, int credentialsPerAccount, int requests, Instant start, Duration span,
                           double resendRate, double lateRate) {
        public static Settings of(long seed, int requests, Instant start) {
            return new Settings(seed, 3, 4, requests, start, Duration.ofDays(4), 0.03, 0.02);
        }
    }

    /** A request as a gateway saw it: the plaintext key (for HTTP ingestion) and the topic record. */
    public record Request(String apiKey, RequestLog log) {
        @Override
        public String toString() {
            return "Request[" + log.requestId() + "]";
        }
    }

    /** Key states (in time order), requests (in send order, resends included), and the ledger. */
    public record Scenario(List<ApiKeyState> keyStates, List<Request> requests, Ledger ledger, List<String> plaintextKeys) {
    }

    private final Settings settings;
    private final Random random;
    private final List<SimKey> keys = new ArrayList<>();

    public LoadGenerator(Settings settings) {
        this.settings = settings;
        this.random = new Random(settings.seed());
    }

    public Scenario generate() {
        Instant start = settings.start();
        Instant end = start.plus(settings.span());
        buildCredentials(start, end);
        Ledger ledger = new Ledger();
        List<Request> ordered = new ArrayList<>(settings.requests());
        long step = Math.max(1, settings.span().toMillis() / settings.requests());
        for (int i = 0; i < settings.requests(); i++) {
            Instant t = start.plusMillis(i * step + random.nextLong(step));
            ordered.add(request(i, t, ledger));
        }
        List<Request> sendOrder = sendOrder(ordered);
        List<ApiKeyState> states = keys.stream().flatMap(k -> k.states(end).stream())
                .sorted(Comparator.comparing(ApiKeyState::updatedAt)).toList();
        return new Scenario(states, sendOrder, ledger, keys.stream().map(k -> k.key.apiKey()).toList());
    }

    private void buildCredentials(Instant start, Instant end) {
        Duration span = Duration.between(start, end);
        List<String> all = ServiceCatalog.ALL.stream().map(ServiceCatalog.Service::privilege).toList();
        for (int a = 0; a < settings.accounts(); a++) {
            String account = "load-" + settings.seed() + "-a" + a;
            for (int c = 0; c < settings.credentialsPerAccount(); c++) {
                String credential = account + "-c" + c;
                // every credential lacks one privilege, so unprivileged use exists for all of them
                List<String> privileges = new ArrayList<>(all);
                privileges.remove((a + c) % all.size());
                List<String> items = c % 2 == 0 ? List.of() : List.of("item-" + c + "-1", "item-" + c + "-2");
                List<String> referrers = c % 2 == 1 ? List.of("https://*.tenant" + a + ".example") : List.of();
                Instant created = start.minus(Duration.ofHours(1));
                Instant far = end.plus(Duration.ofDays(60));
                switch (c % 4) {
                    case 0 -> { // rotation: secondary key, then the first one regenerated
                        SimKey first = add(account, credential, 1, created, far, privileges, items, referrers);
                        add(account, credential, 2, at(start, span, 0.3), far, privileges, items, referrers);
                        first.invalidatedAt = at(start, span, 0.5);
                        add(account, credential, 1, first.invalidatedAt, far, privileges, items, referrers);
                    }
                    case 1 -> // a key that expires in the middle of the run
                            add(account, credential, 1, created, at(start, span, 0.55), privileges, items, referrers);
                    case 2 -> { // invalidation
                        SimKey only = add(account, credential, 1, created, far, privileges, items, referrers);
                        add(account, credential, 2, created, far, privileges, items, referrers);
                        only.invalidatedAt = at(start, span, 0.6);
                    }
                    default -> { // privilege edit: every key invalidated, a new key with fewer privileges
                        SimKey one = add(account, credential, 1, created, far, privileges, items, referrers);
                        SimKey two = add(account, credential, 2, created, far, privileges, items, referrers);
                        Instant edit = at(start, span, 0.7);
                        one.invalidatedAt = edit;
                        two.invalidatedAt = edit;
                        List<String> fewer = new ArrayList<>(privileges);
                        fewer.remove(0);
                        add(account, credential, 1, edit, far, fewer, items, referrers);
                    }
                }
            }
        }
    }

    private static Instant at(Instant start, Duration span, double fraction) {
        return start.plusMillis((long) (span.toMillis() * fraction));
    }

    private SimKey add(String account, String credential, int slot, Instant created, Instant expires,
                       List<String> privileges, List<String> items, List<String> referrers) {
        SimKey key = new SimKey(account, credential, slot, ApiKeys.assemble(randomBase62(ApiKeys.KEY_ID_LENGTH),
                randomBase62(ApiKeys.SECRET_LENGTH)), created, expires, privileges, items, referrers);
        keys.add(key);
        return key;
    }

    private Request request(int index, Instant t, Ledger ledger) {
        String requestId = "r-" + settings.seed() + "-" + index;
        int roll = random.nextInt(100);
        if (roll < 3) {
            return unknownKey(requestId, t, ledger);
        }
        if (roll < 6) {
            SimKey dead = pick(k -> k.existsAt(t) && k.invalidatedAt(t) && !nearEdge(t, k));
            if (dead != null) {
                ledger.reject(requestId, RejectionReason.INVALIDATED);
                return build(requestId, dead, anyService(dead), t);
            }
        }
        if (roll < 9) {
            SimKey expired = pick(k -> k.existsAt(t) && k.expiredAt(t) && !k.invalidatedAt(t) && !nearEdge(t, k));
            if (expired != null) {
                ledger.reject(requestId, RejectionReason.EXPIRED);
                return build(requestId, expired, anyService(expired), t);
            }
        }
        SimKey key = pick(k -> k.usableAt(t) && !nearEdge(t, k));
        if (roll < 12) {
            String missing = ServiceCatalog.ALL.stream().filter(s -> !key.privileges.contains(s.privilege()))
                    .findFirst().orElseThrow().service();
            ledger.reject(requestId, RejectionReason.SERVICE_NOT_PERMITTED);
            return build(requestId, key, missing, t);
        }
        if (roll < 14 && !key.itemAccess.isEmpty()) {
            ledger.reject(requestId, RejectionReason.ITEM_NOT_PERMITTED);
            return new Request(key.key.apiKey(), log(requestId, key, anyService(key), t, "item-not-granted", referrerFor(key)));
        }
        if (roll < 16 && !key.referrers.isEmpty()) {
            ledger.reject(requestId, RejectionReason.REFERRER_NOT_PERMITTED);
            return new Request(key.key.apiKey(), log(requestId, key, anyService(key), t, itemFor(key), "https://evil.example/"));
        }
        String service = anyService(key);
        Request request = build(requestId, key, service, t);
        ledger.accept(key.accountId, key.credentialId, service, t, request.log().units());
        return request;
    }

    private Request unknownKey(String requestId, Instant t, Ledger ledger) {
        ledger.reject(requestId, RejectionReason.UNKNOWN_KEY);
        if (random.nextBoolean()) { // a keyId nobody issued
            ApiKeys.GeneratedKey stranger = ApiKeys.assemble(randomBase62(ApiKeys.KEY_ID_LENGTH), randomBase62(ApiKeys.SECRET_LENGTH));
            return new Request(stranger.apiKey(), new RequestLog(requestId, stranger.keyId(), stranger.secretHash(),
                    "geocoding", "findAddressCandidates", 1, null, null, t));
        }
        SimKey real = keys.get(random.nextInt(keys.size())); // a real keyId with a guessed secret
        ApiKeys.GeneratedKey guess = ApiKeys.assemble(real.key.keyId(), randomBase62(ApiKeys.SECRET_LENGTH));
        return new Request(guess.apiKey(), new RequestLog(requestId, guess.keyId(), guess.secretHash(), "geocoding",
                "findAddressCandidates", 1, null, null, t));
    }

    private Request build(String requestId, SimKey key, String service, Instant t) {
        return new Request(key.key.apiKey(), log(requestId, key, service, t, itemFor(key), referrerFor(key)));
    }

    private RequestLog log(String requestId, SimKey key, String service, Instant t, String item, String referrer) {
        long units = 1 + (random.nextInt(10) == 0 ? random.nextInt(50) : 0);
        return new RequestLog(requestId, key.key.keyId(), key.key.secretHash(), service, "op-" + service, units, item,
                referrer, t);
    }

    private String itemFor(SimKey key) {
        return key.itemAccess.isEmpty() ? null : key.itemAccess.get(random.nextInt(key.itemAccess.size()));
    }

    private String referrerFor(SimKey key) {
        return key.referrers.isEmpty() ? null
                : "https://app" + random.nextInt(3) + key.referrers.get(0).substring("https://*".length()) + "/map";
    }

    private String anyService(SimKey key) {
        String privilege = key.privileges.get(random.nextInt(key.privileges.size()));
        return ServiceCatalog.byPrivilege(privilege).orElseThrow().service();
    }

    private boolean nearEdge(Instant t, SimKey key) {
        return near(t, key.createdAt) || near(t, key.expiresAt) || (key.invalidatedAt != null && near(t, key.invalidatedAt));
    }

    private static boolean near(Instant t, Instant edge) {
        return Duration.between(edge, t).abs().compareTo(EDGE_MARGIN) < 0;
    }

    private SimKey pick(java.util.function.Predicate<SimKey> filter) {
        List<SimKey> candidates = keys.stream().filter(filter).toList();
        return candidates.isEmpty() ? null : candidates.get(random.nextInt(candidates.size()));
    }

    /** Resends and late requests: the order a gateway fleet really delivers them in. */
    private List<Request> sendOrder(List<Request> ordered) {
        List<Request> out = new ArrayList<>(ordered.size() + ordered.size() / 10);
        List<Request> delayed = new ArrayList<>();
        for (int i = 0; i < ordered.size(); i++) {
            Request r = ordered.get(i);
            if (random.nextDouble() < settings.lateRate()) {
                delayed.add(r);
            } else {
                out.add(r);
            }
            if (!out.isEmpty() && random.nextDouble() < settings.resendRate()) {
                out.add(out.get(Math.max(0, out.size() - 1 - random.nextInt(Math.min(out.size(), 500)))));
            }
            if (delayed.size() >= 200) { // late by a few hundred requests' worth of event time
                out.addAll(delayed);
                delayed.clear();
            }
        }
        out.addAll(delayed);
        return out;
    }

    private String randomBase62(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = BASE62.charAt(random.nextInt(62));
        }
        return new String(out);
    }
}
