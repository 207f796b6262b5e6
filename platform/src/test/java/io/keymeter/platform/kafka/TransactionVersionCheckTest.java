package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster on transactions v2 is named at start-up with the command that downgrades it, on a real broker: the
 * embedded one (v1, nothing said), then the same broker upgraded to v2 as a Kafka 4 cluster is formatted by default.
 */
@Timeout(120)
class TransactionVersionCheckTest {

    @TempDir
    Path dir;

    @Test
    void aClusterOnTransactionsV2IsToldHowToDowngrade() throws Exception {
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start();
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            String servers = broker.bootstrapServers();
            assertThat(TransactionVersionCheck.warnOfTransactionsV2(admin, servers, 30)).as("the embedded broker's v1")
                    .isEmpty();

            admin.updateFeatures(Map.of(TransactionVersionCheck.FEATURE,
                    new FeatureUpdate((short) 2, FeatureUpdate.UpgradeType.UPGRADE)), new UpdateFeaturesOptions()).all().get();

            // the update is acknowledged by the controller; the broker answering describeFeatures learns of it after
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(TransactionVersionCheck
                    .warnOfTransactionsV2(admin, servers, 30)).hasValueSatisfying(warning -> assertThat(warning)
                    .contains("transaction.version=2").contains("kafka-features.sh --bootstrap-server " + servers
                            + " downgrade --feature transaction.version=1")));

            // what the named command does, through the Admin API: a safe downgrade, after which nothing is said
            admin.updateFeatures(Map.of(TransactionVersionCheck.FEATURE,
                    new FeatureUpdate((short) 1, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)), new UpdateFeaturesOptions())
                    .all().get();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(TransactionVersionCheck
                    .warnOfTransactionsV2(admin, servers, 30)).isEmpty());
            // and again, as docker-compose.yml runs it at every start: a cluster already on v1 takes it too
            admin.updateFeatures(Map.of(TransactionVersionCheck.FEATURE,
                    new FeatureUpdate((short) 1, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)), new UpdateFeaturesOptions())
                    .all().get();
        }
    }
}
