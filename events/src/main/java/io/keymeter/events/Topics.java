package io.keymeter.events;

import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** The topic registry: every topic Keymeter reads or writes, with its serdes. CONTRACT §4. */
public final class Topics {

    private static final Serde<String> KEY = Serdes.String();

    /** Request logs without the secret, keyed by keyId. */
    public static final Topic<String, RequestLog> REQUESTS =
            new Topic<>("keymeter.requests", KEY, new JsonSerde<>(RequestLog.class, Json.strictMapper()), false, false);

    /** Lifecycle events of credentials, keyed by credentialId, kept forever. */
    public static final Topic<String, CredentialEvent> CREDENTIAL_EVENTS =
            new Topic<>("keymeter.credential-events", KEY, new JsonSerde<>(CredentialEvent.class), false, true);

    /** Current state of every API key, keyed by keyId. A state without the ids usage is billed to is unreadable. */
    public static final Topic<String, ApiKeyState> API_KEYS = new Topic<>("keymeter.api-keys", KEY,
            new JsonSerde<>(ApiKeyState.class, Json.mapper(), ApiKeyState::unusableBecause), true, false);

    /** Refused requests with their reason, keyed by keyId. */
    public static final Topic<String, Rejection> REJECTIONS =
            new Topic<>("keymeter.rejections", KEY, new JsonSerde<>(Rejection.class), false, false);

    /** Latest daily totals, keyed by {@link UsageDaily#key()}. */
    public static final Topic<String, UsageDaily> USAGE_DAILY =
            new Topic<>("keymeter.usage-daily", KEY, new JsonSerde<>(UsageDaily.class), true, false);

    /** Final and adjustment statements, keyed by statementId. */
    public static final Topic<String, Statement> BILLING_STATEMENTS =
            new Topic<>("keymeter.billing-statements", KEY, new JsonSerde<>(Statement.class), true, false);

    /** Use of invalidated or expired keys, keyed by credentialId. */
    public static final Topic<String, SecurityAlert> SECURITY_ALERTS =
            new Topic<>("keymeter.security-alerts", KEY, new JsonSerde<>(SecurityAlert.class), false, false);

    /** Internal: credential commands, keyed by credentialId (single writer per credential). */
    public static final String CREDENTIAL_COMMANDS = "keymeter.credential-commands";

    /** Internal: outcomes of credential commands, keyed by command id. */
    public static final String CREDENTIAL_REPLIES = "keymeter.credential-replies";

    /** Internal: records Kafka Streams could not read or process, with headers saying why. */
    public static final String DEAD_LETTERS = "keymeter.dead-letters";

    /** The public topics of CONTRACT §4. */
    public static final List<Topic<String, ?>> PUBLIC = List.of(
            REQUESTS, CREDENTIAL_EVENTS, API_KEYS, REJECTIONS, USAGE_DAILY, BILLING_STATEMENTS, SECURITY_ALERTS);

    /** Internal topics Keymeter creates beside the public ones (name, compacted). */
    public static final List<Topic<String, byte[]>> INTERNAL = List.of(
            new Topic<>(CREDENTIAL_COMMANDS, KEY, Serdes.ByteArray(), false, false),
            new Topic<>(CREDENTIAL_REPLIES, KEY, Serdes.ByteArray(), false, false),
            new Topic<>(DEAD_LETTERS, KEY, Serdes.ByteArray(), false, false));

    /** Every topic Keymeter creates: the public ones, then the internal ones. */
    public static final List<Topic<String, ?>> ALL = Stream.concat(PUBLIC.stream(), INTERNAL.stream()).toList();

    /** Topics joined without a repartition step: their partition counts must be equal. */
    public static final List<List<String>> CO_PARTITIONED = List.of(
            List.of(REQUESTS.name(), API_KEYS.name(), REJECTIONS.name()));

    private Topics() {
    }
}
