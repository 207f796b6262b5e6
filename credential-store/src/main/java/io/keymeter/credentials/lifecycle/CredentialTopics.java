package io.keymeter.credentials.lifecycle;

import io.keymeter.events.JsonSerde;
import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import org.apache.kafka.common.serialization.Serdes;

/** Typed views of the credential store's internal topics (their names and creation live in {@link Topics}). */
public final class CredentialTopics {

    /** Commands keyed by credentialId. */
    public static final Topic<String, CredentialCommand> COMMANDS = new Topic<>(Topics.CREDENTIAL_COMMANDS,
            Serdes.String(), new JsonSerde<>(CredentialCommand.class), false, false);

    /** Outcomes keyed by commandId. */
    public static final Topic<String, CommandReply> REPLIES = new Topic<>(Topics.CREDENTIAL_REPLIES,
            Serdes.String(), new JsonSerde<>(CommandReply.class), false, false);

    /** Values of the {@code credentials} store. */
    public static final JsonSerde<Credential> CREDENTIAL_SERDE = new JsonSerde<>(Credential.class);

    private CredentialTopics() {
    }
}
