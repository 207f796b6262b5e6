package io.keymeter.credentials.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.credentials.lifecycle.CredentialTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StreamsFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.coordinator.transaction.TransactionStateManagerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandBusReplyWaitTest {

    @TempDir
    Path dir;

    @Test
    void aCallWaitsAsLongAsACommandAppliedBeforeItsDeadlineCanStillCommitWithKafkasDefaults() {
        KeymeterProperties properties = new KeymeterProperties(null, dir, null, null, null, null, null, null, null,
                null, null);
        StreamsConfig streams = new StreamsConfig(StreamsFactory.config(
                Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"), properties, CredentialTopology.APP_NAME,
                CredentialTopology.OVERRIDES));
        Duration transactionTimeout = Duration.ofMillis(Long.parseLong(String.valueOf(
                streams.getProducerConfigs("credentials").get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG))));
        // a transaction past its timeout still commits until the broker's next sweep for timed-out ones aborts it
        Duration sweep = Duration.ofMillis(
                TransactionStateManagerConfig.TRANSACTIONS_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT);

        // before: 4 s + 11 s, shorter than 4 s + 10 s + 10 s
        assertThat(CommandBus.replyWait(Duration.ZERO))
                .isGreaterThan(CommandBus.COMMAND_DEADLINE.plus(transactionTimeout).plus(sweep));
        assertThat(CommandBus.replyWait(Duration.ofSeconds(2))).isEqualTo(CommandBus.replyWait(Duration.ZERO).plusSeconds(2));
    }
}
