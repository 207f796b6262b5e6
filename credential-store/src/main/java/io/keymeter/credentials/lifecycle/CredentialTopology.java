package io.keymeter.credentials.lifecycle;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.CredentialEvent;
import io.keymeter.events.Topics;
import io.keymeter.platform.streams.RunningPartitions;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The credential store: commands in, and in one exactly-once transaction per commit the credential events, the key
 * states and the command replies out.
 *
 * <pre>
 * credential-commands ─▶ credential-command-handler ◀─▶ [credentials]
 *                             │ (+ wall-clock expiry check) ◀─▶ [credential-expiry-index]
 *                             │ (+ dead keys' removal)       ◀─▶ [credential-key-removals]
 *                             ├─▶ credential-events
 *                             ├─▶ api-keys (states; tombstones of keys dead for forget-after)
 *                             └─▶ credential-replies
 * </pre>
 */
public final class CredentialTopology {

    /** Application name: Kafka Streams application id {@code keymeter-credential-store}. */
    public static final String APP_NAME = "credential-store";
    /** The key store: credentialId → {@link Credential}. Queried by the HTTP layer. */
    public static final String STORE = "credentials";
    /** Due time → credentialId, for the expiry check; derived from {@link #STORE}, so neither logged nor queried. */
    static final String EXPIRY_INDEX = "credential-expiry-index";
    /** {@code accountId/credentialId} → credentialId, for listing an account's credentials ({@link AccountIndex}). */
    public static final String ACCOUNT_INDEX = "credential-account-index";
    /** Due time → keyId: when a dead key's tombstone goes to {@code keymeter.api-keys} ({@link KeyRemovals}). */
    static final String KEY_REMOVALS = "credential-key-removals";
    /** How often the wall-clock punctuator looks for keys to expire or to announce as expiring. */
    public static final Duration EXPIRY_CHECK_INTERVAL = Duration.ofSeconds(1);

    /** How long the stream thread blocks in poll when no command arrives (also the expiry punctuator's slack). */
    private static final int POLL_MS = 10;

    /**
     * A low-volume, latency-bound app: each commit closes the transaction that makes a reply and its key states
     * visible to read_committed readers, so commit as soon as a poll's commands are processed (commit interval 0:
     * the thread commits in the same loop iteration, a busy moment still batching what one poll returned; with
     * 10 ms a command waited 5 ms on average for the commit to fall due). Block in poll no longer than 10 ms; send
     * without lingering; and retry quickly when a new transaction's first send finds the previous one still
     * completing (CONCURRENT_TRANSACTIONS).
     */
    public static final Map<String, Object> OVERRIDES = Map.of(
            StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 0,
            StreamsConfig.POLL_MS_CONFIG, POLL_MS,
            StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0,
            StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 5);

    private final CredentialDecider decider;
    private final Duration forgetAfter;
    private final RunningPartitions running;
    private final ConfiguredAccounts accounts;

    /**
     * @param expiringNotice how long before its expiration a key is announced as expiring
     * @param forgetAfter    how long after its last state a dead key is removed from {@code keymeter.api-keys}
     */
    public CredentialTopology(Duration expiringNotice, Duration forgetAfter) {
        this(expiringNotice, forgetAfter, new RunningPartitions());
    }

    /**
     * @param running where the command handler reports its task's partition as running (restored, initialized) or
     *                not: the HTTP reads answer only from a running partition ({@link #running()})
     */
    public CredentialTopology(Duration expiringNotice, Duration forgetAfter, RunningPartitions running) {
        this(expiringNotice, forgetAfter, running, null);
    }

    /**
     * @param accounts the configured accounts: a task that finds active keys of others at its start says so (they
     *                 stay valid, and no token can revoke them); null: not checked
     */
    public CredentialTopology(Duration expiringNotice, Duration forgetAfter, RunningPartitions running,
                              ConfiguredAccounts accounts) {
        this.decider = new CredentialDecider(expiringNotice);
        this.forgetAfter = forgetAfter;
        this.running = running;
        this.accounts = accounts;
    }

    /**
     * The partitions whose task runs here: Kafka Streams 4.4 answers interactive queries from an active task being
     * restored (after a corruption, its store wiped, while the stream thread stays RUNNING), so reads check this.
     */
    public RunningPartitions running() {
        return running;
    }

    /** What each task's command handler checks its stored credentials against; null: not checked. */
    public ConfiguredAccounts accounts() {
        return accounts;
    }

    /** The processor of each task: the single writer of its partition's credentials. */
    CredentialCommandHandler newHandler() {
        return new CredentialCommandHandler(decider, EXPIRY_CHECK_INTERVAL, forgetAfter, running, accounts);
    }

    public Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                CredentialTopics.CREDENTIAL_SERDE));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EXPIRY_INDEX),
                Serdes.String(), Serdes.String()).withLoggingDisabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ACCOUNT_INDEX),
                Serdes.String(), Serdes.String()).withLoggingDisabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(KEY_REMOVALS),
                Serdes.String(), Serdes.String()));

        KStream<String, LifecycleOutput> outputs = builder
                .stream(CredentialTopics.COMMANDS.name(), Consumed.with(CredentialTopics.COMMANDS.keySerde(),
                        CredentialTopics.COMMANDS.valueSerde()).withName("credential-commands-source"))
                .process(this::newHandler,
                        Named.as("credential-command-handler"), STORE, EXPIRY_INDEX, ACCOUNT_INDEX, KEY_REMOVALS);

        outputs.split(Named.as("credential-output-"))
                .branch((k, v) -> v instanceof LifecycleOutput.Event, Branched.withConsumer(events -> events
                        .mapValues(v -> ((LifecycleOutput.Event) v).event(), Named.as("credential-event-unwrap"))
                        .to(Topics.CREDENTIAL_EVENTS.name(), Produced.<String, CredentialEvent>with(
                                Topics.CREDENTIAL_EVENTS.keySerde(), Topics.CREDENTIAL_EVENTS.valueSerde())
                                .withName("credential-events-sink")), "events"))
                .branch((k, v) -> v instanceof LifecycleOutput.KeyState || v instanceof LifecycleOutput.KeyRemoved,
                        Branched.withConsumer(keys -> keys
                                // a removed key's null is a tombstone: compaction drops the key, readers forget it
                                .mapValues(v -> v instanceof LifecycleOutput.KeyState s ? s.state() : null,
                                        Named.as("api-key-unwrap"))
                                .to(Topics.API_KEYS.name(), Produced.<String, ApiKeyState>with(
                                        Topics.API_KEYS.keySerde(), Topics.API_KEYS.valueSerde())
                                        .withName("api-keys-sink")), "key-states"))
                .branch((k, v) -> v instanceof LifecycleOutput.Reply, Branched.withConsumer(replies -> replies
                        .mapValues(v -> ((LifecycleOutput.Reply) v).reply(), Named.as("credential-reply-unwrap"))
                        .to(CredentialTopics.REPLIES.name(), Produced.with(CredentialTopics.REPLIES.keySerde(),
                                CredentialTopics.REPLIES.valueSerde()).withName("credential-replies-sink")), "replies"))
                .noDefaultBranch();
        return builder.build();
    }
}
