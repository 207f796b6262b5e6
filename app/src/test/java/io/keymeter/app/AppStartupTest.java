package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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
        // made readable by others meanwhile: the rewrite at the next start kept that, with the broker's password in it
        Files.setPosixFilePermissions(dataDir.resolve("kafka-client.properties"),
                PosixFilePermissions.fromString("rw-r--r--"));
        String cluster = clusterIdOf(dataDir.resolve("kafka"));
        List<Path> sentinels = sentinelsInEachTopologysState(cluster);

        try (ConfigurableApplicationContext app = start("--keymeter.data-dir=" + dataDir,
                "--keymeter.embedded-kafka.port=0")) {
            String bootstrap = app.getBean(KafkaClients.class).bootstrapServers();
            assertThat(TopicReader.readRaw(bootstrap, Topics.DEAD_LETTERS, true,
                    app.getBean(EmbeddedKafkaBroker.class).clientSecurity()))
                    .anySatisfy(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("kept"));
            assertOnlyKeymetersClientsGetIn(bootstrap);
            assertThat(Files.readString(dataDir.resolve("demo-token"), StandardCharsets.UTF_8)).isEqualTo(token);
            assertThat(sentinels).allMatch(Files::exists); // the same cluster: the state kept
        }
    }

    /**
     * The embedded broker took any client of any user of the machine (a key minted on keymeter.credential-commands,
     * requests billed to any key): it takes only one signed in as kafka-client.properties says, kept owner-only.
     */
    private void assertOnlyKeymetersClientsGetIn(String bootstrap) throws Exception {
        Path clientFile = dataDir.resolve("kafka-client.properties");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(clientFile))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("kafka-password"))))
                .isEqualTo("rw-------");
        Properties client = new Properties();
        try (var in = Files.newInputStream(clientFile)) {
            client.load(in);
        }
        assertThat(client.getProperty("bootstrap.servers")).isEqualTo(bootstrap);
        Map<String, Object> signedIn = new HashMap<>();
        client.forEach((key, value) -> signedIn.put((String) key, value)); // Kafka's timeouts: a loaded machine
        try (Admin admin = Admin.create(signedIn)) {
            assertThat(admin.listTopics().names().get()).contains(Topics.REQUESTS.name());
        }
        Map<String, Object> open = Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", 3000,
                "request.timeout.ms", 3000);
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try (Admin admin = Admin.create(open)) {
            assertThatThrownBy(() -> admin.listTopics().names().get()).as("a client that does not sign in")
                    .isInstanceOf(java.util.concurrent.ExecutionException.class);
        } finally {
            root.detachAppender(logged);
        }
        // the broker warned once per attempt: any local program could fill the log
        assertThat(logged.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getLoggerName)
                .doesNotContain("org.apache.kafka.common.network.Selector");
    }

    /**
     * The embedded broker's data wiped and the state kept: the state was a copy of the old cluster's, and the
     * credential store listed keys as active that verify and metering refused as unknown, for good. Each topology's
     * state is now bound to its cluster's id, and deleted to be restored from the cluster it runs on.
     */
    @Test
    void stateBuiltFromAnotherClusterIsDeletedAndRestoredFromThisOne() throws Exception {
        start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0").close();
        String before = clusterIdOf(dataDir.resolve("kafka"));
        List<Path> sentinels = sentinelsInEachTopologysState(before);
        try (var wiped = Files.walk(dataDir.resolve("kafka"))) {
            wiped.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }

        start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0").close();
        String after = clusterIdOf(dataDir.resolve("kafka"));
        assertThat(after).isNotEqualTo(before);
        assertThat(sentinels).noneMatch(Files::exists);
        try (var markers = Files.list(dataDir.resolve("streams"))) {
            assertThat(markers.filter(f -> f.toString().endsWith(".cluster-id")).map(AppStartupTest::read))
                    .hasSize(sentinels.size()).containsOnly(after);
        }

        // the same in the upgrade to the version that writes the marker: no marker, and a cluster with none of the
        // application's topics (it was kept, and bound to the new cluster for good)
        List<Path> unmarked = sentinelsInEachTopologysState(after);
        try (var markers = Files.list(dataDir.resolve("streams"))) {
            for (Path marker : markers.filter(f -> f.toString().endsWith(".cluster-id")).toList()) {
                Files.delete(marker);
            }
        }
        try (var wiped = Files.walk(dataDir.resolve("kafka"))) {
            wiped.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0").close();
        assertThat(unmarked).noneMatch(Files::exists);
    }

    /** A file in the state directory of each topology, whose state is bound to {@code cluster}. */
    private List<Path> sentinelsInEachTopologysState(String cluster) throws IOException {
        try (var markers = Files.list(dataDir.resolve("streams"))) {
            List<Path> found = markers.filter(f -> f.toString().endsWith(".cluster-id")).toList();
            assertThat(found).hasSizeGreaterThanOrEqualTo(3).allSatisfy(f -> assertThat(read(f)).isEqualTo(cluster));
            List<Path> sentinels = new ArrayList<>();
            for (Path marker : found) {
                Path state = Path.of(marker.toString().replace(".cluster-id", ""));
                sentinels.add(Files.writeString(Files.createDirectories(state).resolve("sentinel"), "kept?"));
            }
            return sentinels;
        }
    }

    private static String clusterIdOf(Path kafkaDir) throws IOException {
        return Files.readAllLines(kafkaDir.resolve("meta.properties")).stream()
                .filter(line -> line.startsWith("cluster.id=")).findFirst().orElseThrow().substring(11);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
        // ingest met it at its first batch, and answered every batch 503
        assertStartStops("Kafka refuses Keymeter's producer settings", "--keymeter.roles=ingest",
                "--spring.kafka.producer.retries=0");
        assertThat(output.getOut() + output.getErr()).contains("Kafka refuses Keymeter's producer settings: Must set "
                + "retries to non-zero when using the idempotent producer.", "Change it in spring.kafka.producer.*");
    }

    /**
     * A duration without a unit is refused, however Keymeter reads it: Spring took {@code max-age=35} as 35
     * milliseconds, started, and refused every request as too old. A data directory that is a file was a stack trace.
     */
    @Test
    void aDurationWithoutAUnitAndADataDirThatIsAFileStopStartUpSayingSo(CapturedOutput output) throws IOException {
        assertStartStops("keymeter.ingest.max-age is 35, a number without a unit", "--keymeter.ingest.max-age=35");
        assertStartStops("keymeter.metering.join-grace is 2000, a number without a unit", "--keymeter.roles=metering",
                "--keymeter.metering.join-grace=2000");
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "Give it its unit: 35d or P35D (days)");
        // refused by the role as it reads the setting: was "Application run failed" and a trace
        assertStartStops("keymeter.billing.currency: 'XYZ' is not an ISO 4217 currency code",
                "--keymeter.roles=billing-report", "--keymeter.billing.currency=XYZ");
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.billing.currency: 'XYZ' is not an ISO 4217 currency code.",
                "Change it, or leave it out for its default.").doesNotContain("Application run failed");
        // given empty: "keymeter.billing.currency is : must be…"
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report", "--keymeter.billing.currency="));
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.billing.currency is empty: must be an ISO 4217 code");
        // refused by its properties record: Spring named the record's field, pricePer1000, not the setting
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report",
                "--keymeter.catalog.services[0].service=routing", "--keymeter.catalog.services[0].price-per-1000=-1",
                "--keymeter.catalog.services[0].free-units=-5"));
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.catalog.services[0].price-per-1000 is -1: must not be negative",
                "keymeter.catalog.services[0].free-units is -5: must be greater than or equal to 0")
                .doesNotContain("pricePer1000");
        // one that cannot be converted was Spring's report, naming "price-per1000"
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + dataDir, "--keymeter.roles=billing-report",
                "--keymeter.catalog.services[0].service=routing", "--keymeter.catalog.services[0].price-per-1000=abc"));
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.catalog.services[0].price-per-1000 is abc, which cannot be read as BigDecimal.")
                .doesNotContain("price-per1000");
        // read with @Value: the trace named a constructor parameter, not the setting
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + dataDir, "--keymeter.roles=ingest", "--keymeter.ingest.body-memory=abc"));
        assertThat(output.getOut() + output.getErr()).contains(
                "keymeter.ingest.body-memory is abc, which cannot be read as DataSize.")
                .doesNotContain("Application run failed");

        Path file = Files.writeString(dataDir.resolve("a-file"), "");
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=" + SharedKafka.bootstrapServers(),
                "--keymeter.data-dir=" + file)).hasStackTraceContaining("keymeter.data-dir " + file.toAbsolutePath()
                + " cannot be used: it is not a directory");
    }

    /**
     * A cluster that does not answer stops start-up with a short report naming its servers and what to check: it
     * ended in a stack trace around the one line that said so (the wait shortened here from the client's 60 s).
     */
    @Test
    void aClusterThatDoesNotAnswerStopsStartUpWithAShortReport(CapturedOutput output) throws IOException {
        int nobody;
        try (ServerSocket socket = new ServerSocket(0)) {
            nobody = socket.getLocalPort();
        }
        assertThatThrownBy(() -> start("--spring.kafka.bootstrap-servers=localhost:" + nobody,
                "--spring.kafka.admin.properties[default.api.timeout.ms]=3000",
                "--spring.kafka.admin.properties[request.timeout.ms]=3000", "--keymeter.data-dir=" + dataDir))
                .hasStackTraceContaining("Kafka at localhost:" + nobody + " did not answer while Keymeter checked its topics");
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "Check spring.kafka.bootstrap-servers, and that the cluster is up")
                .doesNotContain("Application run failed");
    }

    /**
     * A token refused for the whitespace at its end is named by its property, never printed: Spring Boot's report
     * of the refused property printed it as its value, three times with the warning logged before it.
     */
    @Test
    void aTokenRefusedIsNamedNotPrinted(CapturedOutput output) {
        assertStartStops("keymeter.accounts[0].token begins or ends with whitespace", "--keymeter.accounts[0].id=acme",
                "--keymeter.accounts[0].token=acct-secret-for-the-hygiene-check\t");
        assertStartStops("keymeter.gateway-tokens[0] begins or ends with whitespace",
                "--keymeter.gateway-tokens[0]=gw-secret-for-the-hygiene-check ");
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "Remove the whitespace from keymeter.gateway-tokens[0].")
                .doesNotContain("secret-for-the-hygiene-check")
                .doesNotContain("Failed startup of context"); // Jetty's trace of the same refusal, before the report
    }

    /**
     * A token setting Spring cannot bind (a list from index 1 after index 0 was removed, a token where the account
     * belongs, accounts written as one value) is named with where it came from, never printed: Spring Boot's reports,
     * and Keymeter's of a value it cannot read, printed it as the value.
     */
    @Test
    void aTokenSettingThatCannotBeBoundIsNamedNotPrinted(CapturedOutput output) {
        assertStartStops("keymeter.accounts[1].token", "--keymeter.accounts[1].id=acme",
                "--keymeter.accounts[1].token=acct-secret-unbound-one");
        assertStartStops("keymeter.gateway-tokens[1]", "--keymeter.gateway-tokens[1]=gw-secret-unbound-two");
        assertStartStops("keymeter.accounts", "--keymeter.accounts[0]=acct-secret-unbound-three");
        assertStartStops("keymeter.accounts", "--keymeter.accounts=acme:acct-secret-unbound-four");
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "keymeter.accounts[1].token", "keymeter.gateway-tokens[1]", "their values are not shown")
                .doesNotContain("secret-unbound");
    }

    /**
     * An IPv6 zone in the operator's own {@code application.server}, from any of the places Kafka Streams takes it:
     * Kafka took it and the URL built from it threw, so every read forwarded to this instance was a 500.
     */
    @Test
    void anApplicationServerWithAnIpv6ZoneStopsStartUpBeforeTheBrokerStarts() throws IOException {
        Path file = Files.writeString(dataDir.resolveSibling(dataDir.getFileName() + "-client.properties"),
                "application.server=[fe80::1%eth0]:8080\n");
        for (String setting : List.of("--spring.kafka.streams.properties[application.server]=[fe80::1%eth0]:8080",
                "--spring.kafka.properties[application.server]=[fe80::1%eth0]:8080",
                "--keymeter.kafka.client-properties=" + file)) {
            assertThatThrownBy(() -> start("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0",
                    setting)).as(setting).hasStackTraceContaining("application.server (spring.kafka.streams.properties,"
                    + " spring.kafka.properties or keymeter.kafka.client-properties) [fe80::1%eth0]:8080 names an IPv6"
                    + " zone");
            assertThat(dataDir.resolve("kafka")).as("the embedded broker never started").doesNotExist();
        }
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
        assertStartStops("keymeter.gateway-tokens[0] begins or ends with whitespace", "--keymeter.gateway-tokens[0]=gw-token ");
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

    /**
     * A setting a role checks as it reads it stops start-up before the data directory is made and the embedded broker
     * started: join-grace and body-memory were refused only once the broker was up, 20 to 37 s in on a loaded
     * machine. A setting with a default given empty is refused too: an empty streams.threads started on its default.
     */
    @Test
    void aSettingRefusedStopsStartUpBeforeTheEmbeddedBrokerStarts() {
        Path neverMade = dataDir.resolve("never-made");
        Map<String, String> refused = Map.of(
                "--keymeter.metering.join-grace=-PT1S", "keymeter.metering.join-grace must not be negative",
                "--keymeter.ingest.body-memory=8MB", "keymeter.ingest.body-memory must be at least 16MB",
                "--keymeter.ingest.publish.producers=0", "keymeter.ingest.publish.producers must be at least 1",
                "--keymeter.billing.currency=XYZ", "keymeter.billing.currency: 'XYZ' is not an ISO 4217 currency code",
                "--keymeter.billing.adjustment-interval=P32D", "keymeter.billing.adjustment-interval must not be negative and at most 31 days",
                "--keymeter.verify.max-staleness=PT1S", "keymeter.verify.max-staleness must be at least PT2S",
                "--keymeter.credentials.commit-interval=-PT1S", "keymeter.credentials.commit-interval must not be negative",
                "--keymeter.streams.threads=", "keymeter.streams.threads is empty.",
                "--keymeter.streams.rocksdb-cache= ", "keymeter.streams.rocksdb-cache is empty.");
        refused.forEach((setting, message) -> {
            assertThatThrownBy(() -> start("--keymeter.data-dir=" + neverMade, "--keymeter.embedded-kafka.port=0",
                    setting)).as(setting).hasStackTraceContaining(message);
            assertThat(neverMade).as("made before %s was refused", setting).doesNotExist();
        });
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
    void aSecondKeymeterOnTheSameDataDirStopsWhateverItsBroker(CapturedOutput output) throws IOException {
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
            // a role that keeps no state (ingest) is stopped by the broker's own lock instead; it had written its
            // port into the running broker's kafka-client.properties first, which then named a port nothing served
            Path clientFile = dataDir.resolve("kafka-client.properties");
            String written = Files.readString(clientFile);
            assertThatThrownBy(() -> start(own, "--keymeter.data-dir=" + dataDir, "--keymeter.roles=ingest"))
                    .hasStackTraceContaining("in use by another broker");
            assertThat(Files.readString(clientFile)).as("the running broker's sign-in file").isEqualTo(written);
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

    /**
     * A second Keymeter joins the first's embedded broker signed in by the first's kafka-client.properties, named
     * by {@code keymeter.kafka.client-properties} (given as spring.kafka.properties.*, the password showed in the
     * process list). One that does not sign in stops saying the broker may want a sign-in: it said only that Kafka did
     * not answer. The start-up report lists the console only where it runs.
     */
    @Test
    void aSecondKeymeterSignsInToTheFirstsEmbeddedBrokerWithItsClientProperties(CapturedOutput output) {
        Path firstDir = dataDir.resolve("first");
        try (ConfigurableApplicationContext first = start("--keymeter.embedded-kafka.port=0",
                "--keymeter.data-dir=" + firstDir, "--keymeter.roles=billing-report")) {
            String bootstrap = "--spring.kafka.bootstrap-servers=" + first.getBean(KafkaClients.class).bootstrapServers();
            try (ConfigurableApplicationContext second = start(bootstrap, "--keymeter.data-dir=" + dataDir.resolve("second"),
                    "--keymeter.roles=ingest",
                    "--keymeter.kafka.client-properties=" + firstDir.resolve("kafka-client.properties"));
                 Admin admin = second.getBean(KafkaClients.class).newAdmin()) {
                assertThat(admin.listTopics().names().get()).contains(Topics.REQUESTS.name());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertThatThrownBy(() -> start(bootstrap, "--keymeter.data-dir=" + dataDir.resolve("third"),
                    "--keymeter.roles=ingest", "--spring.kafka.admin.properties[default.api.timeout.ms]=3000",
                    "--spring.kafka.admin.properties[request.timeout.ms]=3000"))
                    .hasStackTraceContaining("did not answer while Keymeter checked its topics");
            assertThatThrownBy(() -> start(bootstrap, "--keymeter.data-dir=" + dataDir.resolve("fourth"),
                    "--keymeter.roles=ingest", "--keymeter.kafka.client-properties=" + dataDir.resolve("nope")))
                    .hasStackTraceContaining("keymeter.kafka.client-properties: cannot read " + dataDir.resolve("nope")
                            + " (no such file)");
        }
        assertThat(output.getOut() + output.getErr())
                .contains("whether it wants a sign-in (another Keymeter's embedded broker does: give"
                        + " keymeter.kafka.client-properties=<its data dir>/kafka-client.properties)")
                .contains("roles:   ingest").doesNotContain("console: ");
    }

    /**
     * An HTTP port in use was found by Jetty only after the broker, the topics and every topology had started (some
     * 40 s): it is tried first, the same report at once, before the embedded broker made anything in the data dir.
     */
    @Test
    void anHttpPortInUseStopsStartUpBeforeAnythingStarts(CapturedOutput output) throws IOException {
        try (ServerSocket taken = new ServerSocket(0)) {
            // the jar's own application (main's): the check is registered there, not by this test
            assertThatThrownBy(() -> KeymeterApplication.application()
                    .run("--keymeter.data-dir=" + dataDir, "--keymeter.embedded-kafka.port=0",
                            "--server.port=" + taken.getLocalPort()))
                    .isInstanceOf(org.springframework.boot.web.server.PortInUseException.class);
        }
        assertThat(dataDir.resolve("kafka")).doesNotExist();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START",
                "was already in use");
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
