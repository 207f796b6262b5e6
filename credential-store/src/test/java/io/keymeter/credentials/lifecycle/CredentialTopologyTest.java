package io.keymeter.credentials.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keymeter.credentials.lifecycle.CommandReply.Outcome;
import io.keymeter.events.ApiKeyState;
import io.keymeter.events.ApiKeys;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.KeyStatus;
import io.keymeter.events.Topics;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.TopologyNames;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Every row of the lifecycle table, on the production topology and configuration. */
class CredentialTopologyTest {

    private static final Instant START = Instant.parse("2026-11-26T10:00:00Z");
    private static final Duration NOTICE = Duration.ofDays(7);
    private static final Duration FORGET_AFTER = Duration.ofDays(90);
    private static final String ACCOUNT = "acme";

    @TempDir
    Path dataDir;
    @TempDir
    Path otherInstanceDir;
    private Properties config;

    private TopologyTestDriver driver;
    private TestInputTopic<String, CredentialCommand> commands;
    private TestOutputTopic<String, CredentialEvent> events;
    private TestOutputTopic<String, ApiKeyState> apiKeys;
    private TestOutputTopic<String, CommandReply> replies;
    private KeyValueStore<String, Credential> store;
    private String credentialId;

    @BeforeEach
    void setUp() {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null,
                new KeymeterProperties.Keys(null, null, NOTICE, FORGET_AFTER), null, null, null, null, null);
        config = StreamsFactory.config(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"),
                properties, CredentialTopology.APP_NAME, CredentialTopology.OVERRIDES);
        driver = new TopologyTestDriver(new CredentialTopology(properties.keys().expiringNotice(),
                properties.keys().forgetAfter()).build(), config, START);
        commands = driver.createInputTopic(CredentialTopics.COMMANDS.name(),
                CredentialTopics.COMMANDS.keySerde().serializer(), CredentialTopics.COMMANDS.valueSerde().serializer());
        events = driver.createOutputTopic(Topics.CREDENTIAL_EVENTS.name(),
                Topics.CREDENTIAL_EVENTS.keySerde().deserializer(), Topics.CREDENTIAL_EVENTS.valueSerde().deserializer());
        apiKeys = driver.createOutputTopic(Topics.API_KEYS.name(),
                Topics.API_KEYS.keySerde().deserializer(), Topics.API_KEYS.valueSerde().deserializer());
        replies = driver.createOutputTopic(CredentialTopics.REPLIES.name(),
                CredentialTopics.REPLIES.keySerde().deserializer(), CredentialTopics.REPLIES.valueSerde().deserializer());
        store = driver.getKeyValueStore(CredentialTopology.STORE);
        credentialId = UUID.randomUUID().toString();
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    // ---- create credentials

    @Test
    void createdCredentialHasItsSettingsAndNoKeys() {
        CommandReply reply = send(create(credentialId, ACCOUNT));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(reply.credential().keys()).isEmpty();
        CredentialEvent.CredentialCreated created = (CredentialEvent.CredentialCreated) onlyEvent();
        assertThat(created.credentialId()).isEqualTo(credentialId);
        assertThat(created.accountId()).isEqualTo(ACCOUNT);
        assertThat(created.version()).isEqualTo(1);
        assertThat(created.privileges()).containsExactly("premium:user:basemaps");
        assertThat(created.referrers()).containsExactly("https://*.example.com");
        assertThat(store.get(credentialId).name()).isEqualTo("maps app");
        assertThat(driver.<String, String>getKeyValueStore(CredentialTopology.ACCOUNT_INDEX)
                .get(ACCOUNT + "/" + credentialId)).as("in the account's list").isEqualTo(credentialId);
        assertThat(apiKeys.isEmpty()).isTrue();
    }

    // ---- generate an API key

    @Test
    void generatedKeyIsPublishedActiveWithItsHashAndTheEventTimeAsRecordTime() {
        created();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant expiresAt = START.plus(Duration.ofDays(30));

        CommandReply reply = send(generate(1, key, expiresAt));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(reply.credential().key(1).orElseThrow().secretHash()).as("replies carry no hash").isNull();
        CredentialEvent.KeyCreated event = (CredentialEvent.KeyCreated) onlyEvent();
        assertThat(event.slot()).isEqualTo(1);
        assertThat(event.keyId()).isEqualTo(key.keyId());
        assertThat(event.expiresAt()).isEqualTo(expiresAt);
        TestRecord<String, ApiKeyState> state = apiKeys.readRecord();
        assertThat(state.key()).isEqualTo(key.keyId());
        assertThat(state.value().status()).isEqualTo(KeyStatus.ACTIVE);
        assertThat(state.value().secretHash()).isEqualTo(key.secretHash());
        assertThat(state.value().privileges()).containsExactly("premium:user:basemaps");
        assertThat(state.value().referrers()).containsExactly("https://*.example.com");
        // created in the same millisecond of the wall clock: the key's change is stamped one millisecond later
        assertThat(state.getRecordTime()).isEqualTo(state.value().updatedAt()).isEqualTo(event.at())
                .isEqualTo(START.plusMillis(1));
        assertThat(apiKeys.isEmpty()).isTrue();
    }

    // ---- generate a secondary key

    @Test
    void secondaryKeyGoesToSlotTwoAndTheFirstStaysActive() {
        created();
        ApiKeys.GeneratedKey first = ApiKeys.generate();
        ApiKeys.GeneratedKey second = ApiKeys.generate();
        send(generate(1, first, START.plus(Duration.ofDays(30))));
        drain();

        CommandReply reply = send(generate(2, second, START.plus(Duration.ofDays(60))));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(apiKeys.readKeyValuesToMap()).containsOnlyKeys(second.keyId());
        Credential state = store.get(credentialId);
        assertThat(state.key(1).orElseThrow().status()).isEqualTo(KeyStatus.ACTIVE);
        assertThat(state.key(2).orElseThrow().keyId()).isEqualTo(second.keyId());
    }

    @Test
    void slotHoldingAnActiveKeyAnswersConflictAndChangesNothing() {
        created();
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        drain();

        CommandReply reply = send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));

        assertThat(reply.outcome()).isEqualTo(Outcome.CONFLICT);
        assertThat(reply.field()).isEqualTo("slot");
        assertThat(events.isEmpty()).isTrue();
        assertThat(apiKeys.isEmpty()).isTrue();
    }

    @Test
    void withoutASlotTheFirstFreeSlotIsTakenAndBothFullIsAConflict() {
        created();
        assertThat(send(generate(null, ApiKeys.generate(), START.plus(Duration.ofDays(30)))).credential().keys())
                .extracting(Credential.Key::slot).containsExactly(1);
        assertThat(send(generate(null, ApiKeys.generate(), START.plus(Duration.ofDays(30)))).credential().keys())
                .extracting(Credential.Key::slot).containsExactly(1, 2);
        drain();

        CommandReply third = send(generate(null, ApiKeys.generate(), START.plus(Duration.ofDays(30))));

        assertThat(third.outcome()).isEqualTo(Outcome.CONFLICT);
        assertThat(events.isEmpty()).isTrue();
    }

    // ---- regenerate a key

    @Test
    void regenerateReplacesTheSlotsKeyAndInvalidatesThePreviousAtOnce() {
        created();
        ApiKeys.GeneratedKey old = ApiKeys.generate();
        Instant expiresAt = START.plus(Duration.ofDays(30));
        send(generate(1, old, expiresAt));
        drain();
        ApiKeys.GeneratedKey fresh = ApiKeys.generate();

        CommandReply reply = send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1,
                fresh.keyId(), fresh.secretHash(), null));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted).hasSize(2);
        CredentialEvent.KeyInvalidated invalidated = (CredentialEvent.KeyInvalidated) emitted.get(0);
        assertThat(invalidated.keyId()).isEqualTo(old.keyId());
        assertThat(invalidated.reason()).isEqualTo("regenerated");
        CredentialEvent.KeyRegenerated regenerated = (CredentialEvent.KeyRegenerated) emitted.get(1);
        assertThat(regenerated.keyId()).isEqualTo(fresh.keyId());
        assertThat(regenerated.previousKeyId()).isEqualTo(old.keyId());
        assertThat(regenerated.expiresAt()).as("old expiration kept").isEqualTo(expiresAt);
        Map<String, ApiKeyState> states = apiKeys.readKeyValuesToMap();
        assertThat(states.get(old.keyId()).status()).isEqualTo(KeyStatus.INVALIDATED);
        assertThat(states.get(fresh.keyId()).status()).isEqualTo(KeyStatus.ACTIVE);
        assertThat(states.get(fresh.keyId()).secretHash()).isEqualTo(fresh.secretHash());
        assertThat(store.get(credentialId).keys()).extracting(Credential.Key::keyId).containsExactly(fresh.keyId());
    }

    @Test
    void regenerateWithANewExpirationUsesIt() {
        created();
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        ApiKeys.GeneratedKey fresh = ApiKeys.generate();
        Instant later = START.plus(Duration.ofDays(90));

        send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1, fresh.keyId(),
                fresh.secretHash(), later));

        assertThat(store.get(credentialId).key(1).orElseThrow().expiresAt()).isEqualTo(later);
    }

    @Test
    void regeneratingAnEmptySlotIsNotFound() {
        created();
        CommandReply reply = send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 2,
                ApiKeys.newKeyId(), "h", null));
        assertThat(reply.outcome()).isEqualTo(Outcome.NOT_FOUND);
        assertThat(events.isEmpty()).isTrue();
    }

    // ---- invalidate a key

    @Test
    void invalidatedKeyStopsAtOnceAndItsSlotCanGetANewKey() {
        created();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        send(generate(1, key, START.plus(Duration.ofDays(30))));
        drain();

        CommandReply reply = send(new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        CredentialEvent.KeyInvalidated event = (CredentialEvent.KeyInvalidated) onlyEvent();
        assertThat(event.reason()).isEqualTo("invalidated");
        ApiKeyState state = apiKeys.readValue();
        assertThat(state.keyId()).isEqualTo(key.keyId());
        assertThat(state.status()).isEqualTo(KeyStatus.INVALIDATED);
        assertThat(reply.credential().key(1).orElseThrow().invalidationReason()).isEqualTo("invalidated");

        assertThat(send(new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1)).outcome())
                .as("already invalidated").isEqualTo(Outcome.CONFLICT);
        assertThat(send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30)))).outcome())
                .isEqualTo(Outcome.APPLIED);
    }

    /**
     * If-Match through the topic: the condition travels in the command's JSON and is judged by the single writer. An
     * invalidation made over a read from before the slot's key was regenerated leaves the new key active.
     */
    @Test
    void aConditionalInvalidationOverAStaleReadLeavesTheNewKeyActive() {
        created();
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        long read = store.get(credentialId).version();
        ApiKeys.GeneratedKey successor = ApiKeys.generate();
        send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1, successor.keyId(),
                successor.secretHash(), null, List.of(read)));
        drain();

        CommandReply stale = send(new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1,
                List.of(read)));

        assertThat(stale.outcome()).isEqualTo(Outcome.PRECONDITION_FAILED);
        assertThat(events.isEmpty()).isTrue();
        assertThat(apiKeys.isEmpty()).isTrue();
        assertThat(store.get(credentialId).key(1).orElseThrow()).satisfies(k -> {
            assertThat(k.keyId()).isEqualTo(successor.keyId());
            assertThat(k.status()).isEqualTo(KeyStatus.ACTIVE);
        });
        CommandReply current = send(new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1,
                List.of(store.get(credentialId).version())));
        assertThat(current.outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(apiKeys.readValue().status()).isEqualTo(KeyStatus.INVALIDATED);
    }

    @Test
    void anInvalidationDecidedOnAClockBehindTheKeysCreationIsStampedAfterIt() {
        created();
        driver.advanceWallClockTime(Duration.ofSeconds(40));
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        TestRecord<String, ApiKeyState> active = apiKeys.readRecord();
        Credential restored = store.get(credentialId);
        // the task moves to an instance whose clock is 30 s behind, which restores the credential from the changelog
        Properties otherConfig = new Properties();
        otherConfig.putAll(config);
        otherConfig.put(StreamsConfig.STATE_DIR_CONFIG, otherInstanceDir.toString());
        try (TopologyTestDriver other = new TopologyTestDriver(
                new CredentialTopology(NOTICE, FORGET_AFTER).build(), otherConfig, START.plusSeconds(10))) {
            other.<String, Credential>getKeyValueStore(CredentialTopology.STORE).put(credentialId, restored);
            other.createInputTopic(CredentialTopics.COMMANDS.name(), CredentialTopics.COMMANDS.keySerde().serializer(),
                            CredentialTopics.COMMANDS.valueSerde().serializer())
                    .pipeInput(credentialId, new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT,
                            deadline(), 1));

            // readers keep the latest-stamped state of a key: stamped earlier, the invalidation would be history
            TestRecord<String, ApiKeyState> invalidated = other.createOutputTopic(Topics.API_KEYS.name(),
                    Topics.API_KEYS.keySerde().deserializer(), Topics.API_KEYS.valueSerde().deserializer()).readRecord();
            assertThat(invalidated.value().status()).isEqualTo(KeyStatus.INVALIDATED);
            assertThat(invalidated.getRecordTime()).isEqualTo(invalidated.value().updatedAt())
                    .isEqualTo(active.getRecordTime().plusMillis(1));
            assertThat(other.<String, Credential>getKeyValueStore(CredentialTopology.STORE).get(credentialId)
                    .updatedAt()).isEqualTo(invalidated.getRecordTime());
        }
    }

    /** Every processor, store and topic of the topology is named (see {@link TopologyNames}). */
    @Test
    void everyProcessorStoreAndTopicIsNamed() {
        Topology topology = new CredentialTopology(NOTICE, FORGET_AFTER, new RunningPartitions()).build();
        assertThat(TopologyNames.all(topology)).hasSizeGreaterThan(5);
        assertThat(TopologyNames.generated(topology)).isEmpty();
    }

    @Test
    void theProductionTopologyReportsItsTaskRunningUntilItCloses() {
        RunningPartitions running = new RunningPartitions();
        Properties otherConfig = new Properties();
        otherConfig.putAll(config);
        otherConfig.put(StreamsConfig.STATE_DIR_CONFIG, otherInstanceDir.toString());
        CredentialTopology topology = new CredentialTopology(NOTICE, FORGET_AFTER, running);
        assertThat(topology.running()).isSameAs(running);
        try (TopologyTestDriver other = new TopologyTestDriver(topology.build(), otherConfig, START)) {
            assertThat(running.running()).as("the test driver's one task, 0_0, initialized").containsExactly(0);
        }
        assertThat(running.running()).as("its processors closed with the task").isEmpty();
    }

    @Test
    void aClockFarBehindACredentialsLastChangeIsReportedOnceAMinute() {
        created();
        driver.advanceWallClockTime(Duration.ofMinutes(10));
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        Credential restored = store.get(credentialId);
        Logger handlerLog = (Logger) LoggerFactory.getLogger(CredentialCommandHandler.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        handlerLog.addAppender(logged);
        Properties otherConfig = new Properties();
        otherConfig.putAll(config);
        otherConfig.put(StreamsConfig.STATE_DIR_CONFIG, otherInstanceDir.toString());
        // the other instance's clock is 5 minutes behind: a change there is stamped after the last one, and said
        try (TopologyTestDriver other = new TopologyTestDriver(
                new CredentialTopology(NOTICE, FORGET_AFTER).build(), otherConfig, START.plus(Duration.ofMinutes(5)))) {
            other.<String, Credential>getKeyValueStore(CredentialTopology.STORE).put(credentialId, restored);
            TestInputTopic<String, CredentialCommand> otherCommands = other.createInputTopic(
                    CredentialTopics.COMMANDS.name(), CredentialTopics.COMMANDS.keySerde().serializer(),
                    CredentialTopics.COMMANDS.valueSerde().serializer());
            otherCommands.pipeInput(credentialId, new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT,
                    deadline(), List.of("https://*.example.org")));
            otherCommands.pipeInput(credentialId, new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT,
                    deadline(), List.of("https://*.example.net")));
            assertThat(logged.list).singleElement().satisfies(e -> {
                assertThat(e.getLevel()).isEqualTo(Level.WARN);
                assertThat(e.getFormattedMessage()).contains("PT5M behind the last change of credential " + credentialId);
            });

            other.advanceWallClockTime(Duration.ofMinutes(1));
            otherCommands.pipeInput(credentialId, new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT,
                    deadline(), List.of("https://*.example.com")));
            assertThat(logged.list).as("a minute later, still 4 minutes behind").hasSize(2);
        } finally {
            handlerLog.detachAppender(logged);
        }
    }

    // ---- edit privileges / item access

    @Test
    void editingPrivilegesInvalidatesEveryKey() {
        ApiKeys.GeneratedKey[] keys = createdWithTwoKeys();

        CommandReply reply = send(new CredentialCommand.ChangePrivileges(cmdId(), credentialId, ACCOUNT, deadline(),
                List.of("premium:user:geocode:temporary")));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted.get(0)).isInstanceOf(CredentialEvent.PrivilegesChanged.class);
        assertThat(emitted.subList(1, 3)).allSatisfy(e ->
                assertThat(((CredentialEvent.KeyInvalidated) e).reason()).isEqualTo("privileges-changed"));
        assertThat(apiKeys.readKeyValuesToMap()).containsOnlyKeys(keys[0].keyId(), keys[1].keyId())
                .allSatisfy((id, s) -> assertThat(s.status()).isEqualTo(KeyStatus.INVALIDATED));
        assertThat(store.get(credentialId).privileges()).containsExactly("premium:user:geocode:temporary");
    }

    @Test
    void editingItemAccessInvalidatesEveryKey() {
        ApiKeys.GeneratedKey[] keys = createdWithTwoKeys();

        send(new CredentialCommand.ChangeItemAccess(cmdId(), credentialId, ACCOUNT, deadline(), List.of("item-9")));

        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted.get(0)).isInstanceOf(CredentialEvent.ItemAccessChanged.class);
        assertThat(emitted.subList(1, 3)).allSatisfy(e ->
                assertThat(((CredentialEvent.KeyInvalidated) e).reason()).isEqualTo("item-access-changed"));
        assertThat(apiKeys.readKeyValuesToMap()).containsOnlyKeys(keys[0].keyId(), keys[1].keyId())
                .allSatisfy((id, s) -> assertThat(s.status()).isEqualTo(KeyStatus.INVALIDATED));
    }

    // ---- edit referrers

    @Test
    void editingReferrersKeepsKeysActiveAndRepublishesThemWithTheNewReferrers() {
        ApiKeys.GeneratedKey[] keys = createdWithTwoKeys();

        send(new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT, deadline(),
                List.of("https://maps.example.org")));

        assertThat(onlyEvent()).isInstanceOf(CredentialEvent.ReferrersChanged.class);
        assertThat(apiKeys.readKeyValuesToMap()).containsOnlyKeys(keys[0].keyId(), keys[1].keyId())
                .allSatisfy((id, s) -> {
                    assertThat(s.status()).isEqualTo(KeyStatus.ACTIVE);
                    assertThat(s.referrers()).containsExactly("https://maps.example.org");
                });
    }

    // ---- expiration

    @Test
    void expiredKeyIsPublishedByTheWallClockWithoutAnyRequest() {
        created();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        Instant expiresAt = START.plus(Duration.ofDays(1));
        send(generate(1, key, expiresAt));
        drain();

        driver.advanceWallClockTime(Duration.ofDays(1).plusSeconds(1));

        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted).last().isInstanceOfSatisfying(CredentialEvent.KeyExpired.class, e -> {
            assertThat(e.keyId()).isEqualTo(key.keyId());
            assertThat(e.expiresAt()).isEqualTo(expiresAt);
        });
        ApiKeyState state = apiKeys.readValue();
        assertThat(state.status()).isEqualTo(KeyStatus.EXPIRED);
        assertThat(apiKeys.isEmpty()).isTrue();
        assertThat(store.get(credentialId).key(1).orElseThrow().status()).isEqualTo(KeyStatus.EXPIRED);

        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertThat(events.isEmpty()).as("expired once").isTrue();
    }

    @Test
    void expiringIsPublishedOnceWhenAKeyEntersItsNoticePeriod() {
        created();
        ApiKeys.GeneratedKey key = ApiKeys.generate();
        send(generate(1, key, START.plus(Duration.ofDays(10))));
        drain();

        driver.advanceWallClockTime(Duration.ofDays(2));
        assertThat(events.isEmpty()).as("not yet within 7 days").isTrue();

        driver.advanceWallClockTime(Duration.ofDays(1).plusSeconds(1));
        CredentialEvent.KeyExpiring expiring = (CredentialEvent.KeyExpiring) onlyEvent();
        assertThat(expiring.keyId()).isEqualTo(key.keyId());

        driver.advanceWallClockTime(Duration.ofDays(1));
        assertThat(events.isEmpty()).as("announced once").isTrue();
        assertThat(apiKeys.isEmpty()).as("still active, nothing to republish").isTrue();
    }

    @Test
    void theExpiryCheckReadsOnlyTheCredentialsThatAreDue() {
        created();
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        ExpiryIndex index = new ExpiryIndex(driver.getKeyValueStore(CredentialTopology.EXPIRY_INDEX),
                new CredentialDecider(NOTICE));

        // the key enters its notice period in 23 days; a range from null read every committed entry to the end
        assertThat(index.due(START.plus(Duration.ofDays(1)), 10)).isEmpty();
        assertThat(index.due(START.plus(Duration.ofDays(23)), 10)).containsExactly(credentialId);
    }

    @Test
    void aMassExpiryIsPublishedOverSuccessivePunctuationsEachKeyOnce() {
        int credentials = CredentialCommandHandler.MAX_CHECKS_PER_PUNCTUATION + 50;
        Instant expiresAt = START.plus(Duration.ofDays(1));
        for (int i = 0; i < credentials; i++) {
            credentialId = UUID.randomUUID().toString();
            created();
            send(generate(1, ApiKeys.generate(), expiresAt));
        }
        drain();

        driver.advanceWallClockTime(Duration.ofDays(1).plusSeconds(1));
        List<ApiKeyState> first = apiKeys.readValuesToList();
        driver.advanceWallClockTime(Duration.ofSeconds(1));
        List<ApiKeyState> second = apiKeys.readValuesToList();
        driver.advanceWallClockTime(Duration.ofSeconds(1));

        assertThat(first).hasSize(CredentialCommandHandler.MAX_CHECKS_PER_PUNCTUATION);
        assertThat(second).hasSize(50);
        assertThat(apiKeys.isEmpty()).as("each key once").isTrue();
        assertThat(events.readValuesToList()).hasSize(credentials)
                .allSatisfy(e -> assertThat(e).isInstanceOf(CredentialEvent.KeyExpired.class));
        assertThat(first).extracting(ApiKeyState::status).containsOnly(KeyStatus.EXPIRED);
    }

    // ---- delete credentials

    @Test
    void deletingInvalidatesEveryKeyAndLaterCommandsAreNotFound() {
        ApiKeys.GeneratedKey[] keys = createdWithTwoKeys();

        CommandReply reply = send(new CredentialCommand.DeleteCredential(cmdId(), credentialId, ACCOUNT, deadline()));

        assertThat(reply.outcome()).isEqualTo(Outcome.APPLIED);
        // what it published, for the API to wait until verify has read it
        assertThat(reply.keyStates()).extracting(CommandReply.PublishedKey::keyId, CommandReply.PublishedKey::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(keys[0].keyId(), KeyStatus.INVALIDATED),
                        org.assertj.core.groups.Tuple.tuple(keys[1].keyId(), KeyStatus.INVALIDATED));
        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted).hasSize(3);
        assertThat(emitted.subList(0, 2)).allSatisfy(e ->
                assertThat(((CredentialEvent.KeyInvalidated) e).reason()).isEqualTo("credential-deleted"));
        assertThat(emitted.get(2)).isInstanceOf(CredentialEvent.CredentialDeleted.class);
        assertThat(apiKeys.readKeyValuesToMap()).containsOnlyKeys(keys[0].keyId(), keys[1].keyId())
                .allSatisfy((id, s) -> assertThat(s.status()).isEqualTo(KeyStatus.INVALIDATED));
        assertThat(store.get(credentialId)).isNull();
        assertThat(driver.<String, String>getKeyValueStore(CredentialTopology.ACCOUNT_INDEX)
                .get(ACCOUNT + "/" + credentialId)).as("gone from the account's list").isNull();

        assertThat(send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30)))).outcome())
                .isEqualTo(Outcome.NOT_FOUND);
        assertThat(events.isEmpty()).isTrue();
    }

    // ---- dead keys leave keymeter.api-keys

    @Test
    void aKeyRegeneratedAwayLeavesTheApiKeysTopicForgetAfterItsLastState() {
        created();
        ApiKeys.GeneratedKey old = ApiKeys.generate();
        send(generate(1, old, START.plus(Duration.ofDays(365))));
        ApiKeys.GeneratedKey fresh = ApiKeys.generate();
        send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1, fresh.keyId(),
                fresh.secretHash(), null));
        Instant invalidatedAt = apiKeys.readRecordsToList().stream()
                .filter(r -> r.key().equals(old.keyId())).reduce((a, b) -> b).orElseThrow().getRecordTime();
        drain();

        driver.advanceWallClockTime(Duration.between(START, invalidatedAt.plus(FORGET_AFTER)).minusSeconds(1));
        assertThat(apiKeys.isEmpty()).as("a second before its time").isTrue();

        driver.advanceWallClockTime(Duration.ofSeconds(1));
        TestRecord<String, ApiKeyState> removed = apiKeys.readRecord();
        assertThat(removed.key()).isEqualTo(old.keyId());
        assertThat(removed.value()).as("a tombstone").isNull();
        assertThat(removed.getRecordTime()).as("after the key's last state, so readers take it as the newest")
                .isEqualTo(invalidatedAt.plus(FORGET_AFTER));
        assertThat(apiKeys.isEmpty()).as("the active key stays").isTrue();

        driver.advanceWallClockTime(Duration.ofDays(1));
        assertThat(apiKeys.isEmpty()).as("removed once").isTrue();
        assertThat(store.get(credentialId).keys()).extracting(Credential.Key::keyId).containsExactly(fresh.keyId());
    }

    @Test
    void theKeysOfADeletedCredentialAndAnExpiredKeyLeaveToo() {
        ApiKeys.GeneratedKey[] deleted = createdWithTwoKeys();
        send(new CredentialCommand.DeleteCredential(cmdId(), credentialId, ACCOUNT, deadline()));
        assertThat(apiKeys.readValuesToList()).extracting(ApiKeyState::status)
                .containsExactly(KeyStatus.INVALIDATED, KeyStatus.INVALIDATED);
        credentialId = UUID.randomUUID().toString();
        created();
        ApiKeys.GeneratedKey expiring = ApiKeys.generate();
        send(generate(1, expiring, START.plus(Duration.ofDays(1))));
        driver.advanceWallClockTime(Duration.ofDays(1).plusSeconds(1));
        assertThat(apiKeys.readValuesToList()).extracting(ApiKeyState::status)
                .containsExactly(KeyStatus.ACTIVE, KeyStatus.EXPIRED);

        driver.advanceWallClockTime(FORGET_AFTER);

        List<TestRecord<String, ApiKeyState>> removed = apiKeys.readRecordsToList();
        assertThat(removed).extracting(TestRecord::key)
                .containsExactlyInAnyOrder(deleted[0].keyId(), deleted[1].keyId(), expiring.keyId());
        assertThat(removed).extracting(TestRecord::value).as("tombstones").containsOnlyNulls();
    }

    // ---- accounts, deadlines, replay

    /** Every task's handler checks its stored credentials against the accounts the topology was given. */
    @Test
    void eachTasksHandlerIsGivenTheConfiguredAccounts() {
        ConfiguredAccounts accounts = new ConfiguredAccounts(Set.of(ACCOUNT), Clock.systemUTC());
        assertThat(new CredentialTopology(NOTICE, FORGET_AFTER, new RunningPartitions(), accounts).newHandler()
                .accounts()).isSameAs(accounts);
    }

    /**
     * Another account's credential answers as a missing one (no field named, so no 404 "key in slot 1" telling it
     * exists), whichever change is sent, and nothing of it changes: with keys in both slots, a missing account check
     * would invalidate them.
     */
    @Test
    void anotherAccountsCredentialIsNotFound() {
        createdWithTwoKeys();
        List<CredentialCommand> foreign = List.of(
                new CredentialCommand.InvalidateKey(cmdId(), credentialId, "globex", deadline(), 1),
                new CredentialCommand.ChangePrivileges(cmdId(), credentialId, "globex", deadline(),
                        List.of("premium:user:geocode")),
                new CredentialCommand.RegenerateKey(cmdId(), credentialId, "globex", deadline(), 2,
                        ApiKeys.newKeyId(), "0".repeat(64), null),
                new CredentialCommand.DeleteCredential(cmdId(), credentialId, "globex", deadline()));
        for (CredentialCommand command : foreign) {
            CommandReply reply = send(command);
            assertThat(reply.outcome()).as(command.toString()).isEqualTo(Outcome.NOT_FOUND);
            assertThat(reply.field()).as(command.toString()).isNull();
            assertThat(reply.credential()).isNull();
        }
        assertThat(events.isEmpty()).isTrue();
        assertThat(apiKeys.isEmpty()).isTrue();
        assertThat(store.get(credentialId).keys()).extracting(Credential.Key::status)
                .containsExactly(KeyStatus.ACTIVE, KeyStatus.ACTIVE);
        assertThat(store.get(credentialId).privileges()).containsExactly("premium:user:basemaps");
    }

    @Test
    void aCommandPastItsDeadlineIsRefusedUnapplied() {
        created();
        CommandReply reply = send(new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT,
                START.minusSeconds(1), List.of()));
        assertThat(reply.outcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(events.isEmpty()).isTrue();
        assertThat(store.get(credentialId).referrers()).containsExactly("https://*.example.com");
    }

    @Test
    void eventsReplayToTheStoredStateAndVersionsCountFromOne() {
        send(create(credentialId, ACCOUNT));
        send(generate(1, ApiKeys.generate(), START.plus(Duration.ofDays(30))));
        send(generate(2, ApiKeys.generate(), START.plus(Duration.ofDays(20))));
        ApiKeys.GeneratedKey fresh = ApiKeys.generate();
        send(new CredentialCommand.RegenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), 2, fresh.keyId(),
                fresh.secretHash(), null));
        send(new CredentialCommand.InvalidateKey(cmdId(), credentialId, ACCOUNT, deadline(), 1));
        send(new CredentialCommand.ChangeReferrers(cmdId(), credentialId, ACCOUNT, deadline(), List.of()));
        driver.advanceWallClockTime(Duration.ofDays(25));

        Credential replayed = null;
        long expectedVersion = 1;
        for (CredentialEvent event : events.readValuesToList()) {
            assertThat(event.version()).isEqualTo(expectedVersion++);
            replayed = Credential.apply(replayed, event);
        }
        assertThat(replayed).isEqualTo(store.get(credentialId).withoutSecrets());
    }

    // ---- helpers

    private void created() {
        send(create(credentialId, ACCOUNT));
        drain();
    }

    private ApiKeys.GeneratedKey[] createdWithTwoKeys() {
        created();
        ApiKeys.GeneratedKey a = ApiKeys.generate();
        ApiKeys.GeneratedKey b = ApiKeys.generate();
        send(generate(1, a, START.plus(Duration.ofDays(30))));
        send(generate(2, b, START.plus(Duration.ofDays(30))));
        drain();
        return new ApiKeys.GeneratedKey[] {a, b};
    }

    private CommandReply send(CredentialCommand command) {
        commands.pipeInput(command.credentialId(), command);
        TestRecord<String, CommandReply> reply = replies.readRecord();
        assertThat(reply.key()).isEqualTo(command.commandId());
        assertThat(replies.isEmpty()).isTrue();
        return reply.value();
    }

    private void drain() {
        events.readValuesToList();
        apiKeys.readValuesToList();
    }

    private CredentialEvent onlyEvent() {
        List<CredentialEvent> emitted = events.readValuesToList();
        assertThat(emitted).hasSize(1);
        return emitted.get(0);
    }

    private CredentialCommand.CreateCredential create(String id, String account) {
        return new CredentialCommand.CreateCredential(cmdId(), id, account, deadline(), "maps app",
                List.of("premium:user:basemaps"), List.of("item-1"), List.of("https://*.example.com"));
    }

    private CredentialCommand.GenerateKey generate(Integer slot, ApiKeys.GeneratedKey key, Instant expiresAt) {
        return new CredentialCommand.GenerateKey(cmdId(), credentialId, ACCOUNT, deadline(), slot, key.keyId(),
                key.secretHash(), expiresAt);
    }

    private Instant deadline() {
        return START.plus(Duration.ofDays(3650));
    }

    private static String cmdId() {
        return UUID.randomUUID().toString();
    }
}
