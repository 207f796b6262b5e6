package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/** Start-up behaviour that needs its own application (and sometimes its own broker), not the shared test context. */
@Timeout(180)
@ExtendWith(OutputCaptureExtension.class)
class AppStartupTest {

    @TempDir
    Path dataDir;

    @Test
    void withoutAClusterItRunsOnItsEmbeddedBrokerAndARestartFindsThePreviousData() throws Exception {
        String token;
        try (ConfigurableApplicationContext app = start("--keymeter.data-dir=" + dataDir,
                "--keymeter.embedded-kafka.port=0")) {
            assertThat(app.getBean(EmbeddedKafkaBroker.class).isRunning()).isTrue();
            token = Files.readString(dataDir.resolve("demo-token"), StandardCharsets.UTF_8);
            KafkaClients clients = app.getBean(KafkaClients.class);
            try (var producer = new KafkaProducer<>(clients.producer("restart-test"), new StringSerializer(),
                    new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(Topics.DEAD_LETTERS, "kept", "across restarts".getBytes())).get();
            }
        }
        assertThat(dataDir.resolve("kafka/meta.properties")).exists();

        try (ConfigurableApplicationContext app = start("--keymeter.data-dir=" + dataDir,
                "--keymeter.embedded-kafka.port=0")) {
            String bootstrap = app.getBean(KafkaClients.class).bootstrapServers();
            assertThat(TopicReader.readRaw(bootstrap, Topics.DEAD_LETTERS))
                    .anySatisfy(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("kept"));
            assertThat(Files.readString(dataDir.resolve("demo-token"), StandardCharsets.UTF_8)).isEqualTo(token);
        }
    }

    @Test
    void misPartitionedJoinedTopicsStopStartUpWithAClearMessage() throws Exception {
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dataDir.resolve("kafka"), 0).start()) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(
                        new NewTopic(Topics.REQUESTS.name(), 6, (short) 1),
                        new NewTopic(Topics.API_KEYS.name(), 3, (short) 1).configs(Map.of("cleanup.policy", "compact"))))
                        .all().get();
            }

            assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
                    "--keymeter.data-dir=" + dataDir))
                    .rootCause()
                    .hasMessageContaining("must have the same number of partitions")
                    .hasMessageContaining("keymeter.requests=6")
                    .hasMessageContaining("keymeter.api-keys=3");
        }
    }

    /**
     * A second Keymeter on data in use stops with what is wrong and what to do, as Spring Boot prints a web port in
     * use; the sentence was inside a 107-line stack trace.
     */
    @Test
    void dataInUseStopsStartUpWithAShortReport(CapturedOutput output) throws Exception {
        try (EmbeddedKafkaBroker holder = new EmbeddedKafkaBroker(dataDir.resolve("kafka"), 0).start()) {
            assertThatThrownBy(() -> start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0"))
                    .hasStackTraceContaining("in use by another broker");
        }
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "The embedded Kafka data in " + dataDir.resolve("kafka") + " is in use by another broker",
                "Stop it, or give this one its own keymeter.data-dir.")
                .doesNotContain("at io.keymeter.kafka.EmbeddedKafkaBroker.lockDataDir");
    }

    /**
     * A setting or token Keymeter refuses gets the same short report (the tokens are checked while Jetty starts, for
     * the token filter, and Jetty logs its own warning with the trace before it).
     */
    @Test
    void aRefusedSettingStopsStartUpWithAShortReport(CapturedOutput output) {
        assertStartStops("one token is given twice", "--keymeter.accounts[0].id=acme",
                "--keymeter.accounts[0].token=same", "--keymeter.gateway-tokens[0]=same");
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START", "Description:",
                "one token is given twice, as keymeter.accounts[0].token and as keymeter.gateway-tokens[0].",
                "Action:", "Give one of them another token.");
        assertStartStops("keymeter.ingest.publish.producers must be at least 1", "--keymeter.roles=ingest",
                "--keymeter.ingest.publish.producers=0");
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.ingest.publish.producers must be at least 1.", "Change it, or leave it out for its default");
    }

    @Test
    void aBadConfigurationValueStopsStartUpNamingTheProperty() {
        assertStartStops("topics.partitions", "--keymeter.topics.partitions=0");
        assertStartStops("roles", "--keymeter.roles=metering,billing");
        assertStartStops("min-lifetime", "--keymeter.keys.min-lifetime=P400D");
        assertStartStops("forget-after must be positive", "--keymeter.keys.forget-after=PT0S");
        assertStartStops("expiring-notice must not be negative", "--keymeter.keys.expiring-notice=-P1D");
        // before, Kafka Streams refused it once the app was up, naming commit.interval.ms
        assertStartStops("commit-interval must be positive", "--keymeter.streams.commit-interval=-PT1S");
        assertStartStops("keymeter.credentials.commit-interval must not be negative", "--keymeter.roles=credential-store",
                "--keymeter.credentials.commit-interval=-PT1S");
        assertStartStops("keymeter.metering.join-grace must not be negative", "--keymeter.roles=metering",
                "--keymeter.metering.join-grace=-PT1S");
        // before, a LinkedBlockingDeque's IllegalArgumentException without a message
        assertStartStops("keymeter.ingest.publish.producers must be at least 1", "--keymeter.roles=ingest",
                "--keymeter.ingest.publish.producers=0");
        assertStartStops("keymeter.ingest.publish.compression must be one of", "--keymeter.roles=ingest",
                "--keymeter.ingest.publish.compression=brotli");
        // one token for two accounts signed the first in as the second
        assertStartStops("one token is given twice", "--keymeter.accounts[0].id=acme",
                "--keymeter.accounts[0].token=same", "--keymeter.accounts[1].id=globex", "--keymeter.accounts[1].token=same");
        assertStartStops("one token is given twice", "--keymeter.accounts[0].id=acme",
                "--keymeter.accounts[0].token=same", "--keymeter.gateway-tokens[0]=same");
        // each started before: the gateway's every call a 401; a 1e9 typo ran stream threads out of memory; one
        // request 5 minutes ahead ended the dedupe window of every requestId before it; the write buffers pushed
        // every block out of the cache they are charged against; P200000000D overflowed in milliseconds
        assertStartStops("must not begin or end with whitespace", "--keymeter.gateway-tokens[0]=gw-token ");
        assertStartStops("must be at most 100000000",
                "--keymeter.metering.dedupe-filter-capacity=1000000000");
        assertStartStops("dedupe-window must be longer than keymeter.ingest.max-future-skew plus 1 minute",
                "--keymeter.metering.dedupe-window=PT5M");
        assertStartStops("the write buffers smaller than the cache", "--keymeter.streams.rocksdb-cache=16MB",
                "--keymeter.streams.rocksdb-write-buffers=64MB");
        assertStartStops("max-age must be positive", "--keymeter.ingest.max-age=PT0S");
        // metering's outputs carry the request's time: one stamped over an hour ahead is refused by the broker
        assertStartStops("max-future-skew must not be negative and at most PT50M", "--keymeter.ingest.max-future-skew=PT2H");
        assertStartStops("at most 36500 days", "--keymeter.ingest.max-age=P200000000D");
        // the other durations too: each started, and overflowed when first used (a key's expiry, a removal's time)
        assertStartStops("forget-after must be positive and at most 36500 days",
                "--keymeter.keys.forget-after=P200000000D");
        assertStartStops("and max-lifetime at most 36500 days", "--keymeter.keys.max-lifetime=P200000000D");
        assertStartStops("expiring-notice must not be negative and at most 36500 days",
                "--keymeter.keys.expiring-notice=P200000000D");
        assertStartStops("join-grace must not be negative, and at most 36500 days", "--keymeter.roles=metering",
                "--keymeter.metering.join-grace=P200000000D");
        assertStartStops("keymeter.verify.max-staleness must be at most 36500 days", "--keymeter.roles=metering",
                "--keymeter.verify.max-staleness=P200000000D");
        // a transaction timeout (3x) over the broker's 15-minute maximum: every batch was a 503
        assertStartStops("keymeter.ingest.publish.timeout must be at most PT5M", "--keymeter.roles=ingest",
                "--keymeter.ingest.publish.timeout=PT6M");
    }

    /** A replication factor the embedded broker cannot give failed later as "Kafka did not answer", with a trace. */
    @Test
    void aReplicationFactorAboveOneWithTheEmbeddedBrokerStopsStartUpNamingIt() {
        assertThatThrownBy(() -> start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0",
                "--keymeter.topics.replication-factor=3"))
                .hasStackTraceContaining("keymeter.topics.replication-factor is 3, but the embedded Kafka broker is a"
                        + " single broker");
    }

    /**
     * Only the embedded broker's data was locked: two processes on one data dir against a cluster shared their
     * Kafka Streams state and static member ids, fencing each other out of their groups. Ingest keeps no state there:
     * its replicas may share one (docker-compose.yml).
     */
    @Test
    void aSecondKeymeterOnTheSameDataDirStopsWhateverItsBroker(CapturedOutput output) {
        // on its own embedded broker, so that its topology does not join the shared broker's groups; the process's
        // lock is taken first (the broker's would say "in use by another broker"), and the same with a cluster
        String own = "--keymeter.embedded-kafka.port=0";
        try (ConfigurableApplicationContext first = start(own, "--keymeter.data-dir=" + dataDir,
                "--keymeter.roles=billing-report")) {
            assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                    "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report"))
                    .hasStackTraceContaining("is in use by another Keymeter");
            assertThatThrownBy(() -> start(own, "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report"))
                    .hasStackTraceContaining("is in use by another Keymeter");
            assertThat(first.isRunning()).isTrue();
            String cluster = "--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers();
            Path ingestDir = dataDir.resolve("ingest");
            try (ConfigurableApplicationContext one = start(cluster, "--keymeter.data-dir=" + ingestDir,
                    "--keymeter.roles=ingest");
                 ConfigurableApplicationContext two = start(cluster, "--keymeter.data-dir=" + ingestDir,
                         "--keymeter.roles=ingest")) {
                assertThat(one.isRunning() && two.isRunning()).isTrue();
            }
        }
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "The data directory " + dataDir.toAbsolutePath() + " is in use by another Keymeter.",
                "Stop it, or give this one its own keymeter.data-dir.");
        // released at the first one's stop
        start(own, "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report").close();
    }

    /** Start-up on the shared broker with {@code args} stops, its failure saying {@code expected}. */
    private void assertStartStops(String expected, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers();
        all[1] = "--keymeter.data-dir=" + dataDir;
        System.arraycopy(args, 0, all, 2, args.length);
        assertThatThrownBy(() -> start(all)).hasStackTraceContaining(expected);
    }

    private static ConfigurableApplicationContext start(String... args) {
        String[] all = new String[args.length + 1];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--server.port=0";
        return new SpringApplicationBuilder(KeymeterApplication.class).run(all);
    }
}
