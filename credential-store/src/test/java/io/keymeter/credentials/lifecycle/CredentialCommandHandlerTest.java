package io.keymeter.credentials.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.CredentialEvent;
import io.keymeter.platform.streams.RunningPartitions;
import java.time.Duration;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The indexes across a task (re)start, which TopologyTestDriver cannot show: it never keeps state. */
class CredentialCommandHandlerTest {

    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    private static final Duration FORGET_AFTER = Duration.ofDays(90);

    private final CredentialDecider decider = new CredentialDecider(Duration.ofDays(7));
    private final MockProcessorContext<String, LifecycleOutput> context = new MockProcessorContext<>();
    private KeyValueStore<String, Credential> credentials;
    private KeyValueStore<String, String> index;
    private KeyValueStore<String, String> accounts;
    private KeyValueStore<String, String> removals;

    @BeforeEach
    void setUp() {
        credentials = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CredentialTopology.STORE),
                Serdes.String(), CredentialTopics.CREDENTIAL_SERDE).withLoggingDisabled().build();
        index = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CredentialTopology.EXPIRY_INDEX),
                Serdes.String(), Serdes.String()).withLoggingDisabled().build();
        accounts = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CredentialTopology.ACCOUNT_INDEX),
                Serdes.String(), Serdes.String()).withLoggingDisabled().build();
        removals = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CredentialTopology.KEY_REMOVALS),
                Serdes.String(), Serdes.String()).withLoggingDisabled().build();
        removals.init(context.getStateStoreContext(), removals);
        context.addStateStore(removals);
        credentials.init(context.getStateStoreContext(), credentials);
        index.init(context.getStateStoreContext(), index);
        accounts.init(context.getStateStoreContext(), accounts);
        context.addStateStore(credentials);
        context.addStateStore(index);
        context.addStateStore(accounts);
    }

    @Test
    void aCredentialStoredBeforeTheTaskStartsIsIndexedAndExpires() {
        credentials.put("cred", withKey(T0.plus(Duration.ofDays(1))));
        index.put("stale entry of a credential that no longer exists", "gone");

        new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);
        punctuateAt(T0.plus(Duration.ofDays(1)));

        List<CredentialEvent> events = context.forwarded().stream().map(f -> f.record().value())
                .filter(LifecycleOutput.Event.class::isInstance).map(v -> ((LifecycleOutput.Event) v).event()).toList();
        assertThat(events).singleElement().isInstanceOf(CredentialEvent.KeyExpired.class);
        assertThat(index.approximateNumEntries()).as("stale entry dropped, expired key no longer due").isZero();
    }

    @Test
    void theAccountIndexIsRebuiltFromTheStoredCredentialsAtStart() {
        credentials.put("cred", withKey(T0.plus(Duration.ofDays(30))));
        accounts.put("acme/deleted-while-the-task-was-elsewhere", "deleted-while-the-task-was-elsewhere");

        new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);

        assertThat(entries(accounts)).containsExactly("acme/cred");
    }

    /**
     * Credentials of an account no longer configured keep their keys valid while no token can revoke them: a task
     * that finds active keys of such an account at its start says which accounts, how many keys in how many
     * credentials, and what to do. Active by the wall clock (Kafka Streams' own time is not set in init: a mock
     * context whose time is unset, as a real task's reads 0, and every key stored active looked active).
     */
    @Test
    void activeKeysOfAnAccountNotConfiguredAreWarnedOfAtStart() {
        Credential gone = withKey(T0.plus(Duration.ofDays(30)), "globex", "cred-1");
        credentials.put(gone.id(), gone);
        Credential expired = withKey(T0.plus(Duration.ofDays(1)), "globex", "cred-2");
        credentials.put(expired.id(), expired);
        Credential dead = withKey(T0.plus(Duration.ofDays(1)), "initech", "cred-3");
        credentials.put(dead.id(), dead);
        credentials.put("cred", withKey(T0.plus(Duration.ofDays(30))));
        Clock clock = Clock.fixed(T0.plus(Duration.ofDays(2)), ZoneOffset.UTC);
        Logger handlerLog = (Logger) LoggerFactory.getLogger(CredentialCommandHandler.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        handlerLog.addAppender(logged);
        try {
            new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER, new RunningPartitions(),
                    new ConfiguredAccounts(Set.of("acme"), clock)).init(context);
            new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER, new RunningPartitions(),
                    new ConfiguredAccounts(Set.of("acme", "globex"), clock)).init(context);
            new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);
        } finally {
            handlerLog.detachAppender(logged);
        }

        assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("active keys of accounts not in keymeter.accounts: globex (1 active key in 2 credentials).")
                .contains("still pass /v1/verify").doesNotContain("acme").as("dead keys only").doesNotContain("initech");
    }

    @Test
    void aDeadKeysRemovalScheduledBeforeTheTaskStartsIsKeptAndCarriedOut() {
        // the schedule is not derived (a key regenerated away is in no credential): a restart must not drop it
        removals.put(DueTimeKeys.key(T0.plus(FORGET_AFTER), "key-regenerated-away"), "key-regenerated-away");

        new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);
        punctuateAll(T0.plus(FORGET_AFTER));

        assertThat(context.forwarded()).singleElement().satisfies(f -> {
            assertThat(f.record().key()).isEqualTo("key-regenerated-away");
            assertThat(f.record().value()).isEqualTo(new LifecycleOutput.KeyRemoved("key-regenerated-away"));
            assertThat(f.record().timestamp()).isEqualTo(T0.plus(FORGET_AFTER).toEpochMilli());
        });
        assertThat(entries(removals)).as("done once").isEmpty();
    }

    @Test
    void aMassRemovalIsSpreadOverPunctuationsEachKeyOnce() {
        int keys = CredentialCommandHandler.MAX_REMOVALS_PER_PUNCTUATION + 50;
        for (int i = 0; i < keys; i++) {
            removals.put(DueTimeKeys.key(T0.plusMillis(i % 7), "key-" + i), "key-" + i);
        }
        new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);

        punctuateAll(T0.plusSeconds(1));
        List<Object> first = forwardedKeys();
        context.resetForwards();
        punctuateAll(T0.plusSeconds(2));
        List<Object> second = forwardedKeys();

        assertThat(first).hasSize(CredentialCommandHandler.MAX_REMOVALS_PER_PUNCTUATION);
        assertThat(second).hasSize(50);
        assertThat(entries(removals)).isEmpty();
        List<Object> all = new ArrayList<>(first);
        all.addAll(second);
        assertThat(all).doesNotHaveDuplicates().hasSize(keys);
    }

    private void punctuateAll(Instant now) {
        context.setCurrentSystemTimeMs(now.toEpochMilli());
        context.scheduledPunctuators().forEach(p -> p.getPunctuator().punctuate(now.toEpochMilli()));
    }

    private List<Object> forwardedKeys() {
        return context.forwarded().stream().map(f -> (Object) f.record().key()).toList();
    }

    @Test
    void itsPartitionRunsFromTheEndOfInitUntilClose() {
        credentials.put("cred", withKey(T0.plus(Duration.ofDays(30))));
        RunningPartitions running = new RunningPartitions();
        int partition = context.taskId().partition();
        CredentialCommandHandler handler = new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER,
                running);
        assertThat(running.isRunning(partition)).as("a task being restored has not initialized its processor")
                .isFalse();

        handler.init(context);

        assertThat(running.running()).containsExactly(partition);
        assertThat(entries(accounts)).as("the index is rebuilt before reads may go on").containsExactly("acme/cred");

        handler.close(); // suspended, or closed dirty on a corruption before the store is wiped and restored
        assertThat(running.isRunning(partition)).isFalse();
        handler.close();
        assertThat(running.running()).isEmpty();
    }

    @Test
    void indexKeysHaveAsciiDigitsWhateverTheDefaultFormatLocale() {
        Locale format = Locale.getDefault(Locale.Category.FORMAT);
        Locale.setDefault(Locale.Category.FORMAT, Locale.forLanguageTag("ar-EG")); // Arabic-Indic digits by default
        try {
            credentials.put("cred", withKey(T0.plus(Duration.ofDays(30))));

            new CredentialCommandHandler(decider, Duration.ofSeconds(1), FORGET_AFTER).init(context);
        } finally {
            Locale.setDefault(Locale.Category.FORMAT, format);
        }

        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> all = index.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        assertThat(keys).isNotEmpty().allMatch(key -> key.matches("[0-9]{19}\\|cred"), "19 ASCII digits, then the id");
    }

    private static List<String> entries(KeyValueStore<String, String> store) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> all = store.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }

    private void punctuateAt(Instant now) {
        context.setCurrentSystemTimeMs(now.toEpochMilli());
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(now.toEpochMilli());
    }

    private Credential withKey(Instant expiresAt) {
        return withKey(expiresAt, "acme", "cred");
    }

    private Credential withKey(Instant expiresAt, String account, String id) {
        Credential created = decider.decide(null, new CredentialCommand.CreateCredential("c0", id, account,
                T0.plusSeconds(5), "n", List.of("premium:user:basemaps"), List.of(), List.of()), T0).state();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        return decider.decide(created, new CredentialCommand.GenerateKey("c1", id, account, T0.plusSeconds(5), 1,
                key.keyId(), key.secretHash(), expiresAt), T0).state();
    }
}
