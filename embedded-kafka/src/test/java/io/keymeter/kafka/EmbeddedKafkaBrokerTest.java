package io.keymeter.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

@Timeout(120)
class EmbeddedKafkaBrokerTest {

    @TempDir
    Path dir;

    @Test
    void aRestartedBrokerFindsTheTopicsOfThePreviousRun() throws Exception {
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start()) {
            try (Admin admin = admin(broker)) {
                admin.createTopics(List.of(new NewTopic("kept", 3, (short) 1))).all().get();
            }
        }

        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(broker)) {
            Set<String> names = admin.listTopics().names().get();
            assertThat(names).contains("kept");
            assertThat(admin.describeTopics(List.of("kept")).allTopicNames().get().get("kept").partitions()).hasSize(3);
        }
    }

    /**
     * "Any free port" is the last run's port while it is free: on a new port at every start, a broker restarted after
     * a kill once left a transaction hanging (its coordinator sent markers to its previous address).
     */
    @Test
    void aBrokerForAnyFreePortTakesItsLastPortsAgainWhileTheyAreFree() throws Exception {
        String first;
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start()) {
            first = broker.bootstrapServers();
        }
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(broker)) {
            assertThat(broker.bootstrapServers()).isEqualTo(first);
            assertThat(admin.describeCluster().nodes().get()).hasSize(1);
        }
        int port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
        try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
                EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(broker)) {
            assertThat(broker.bootstrapServers()).as("taken meanwhile: another free one").isNotEqualTo(first);
            assertThat(admin.describeCluster().nodes().get()).hasSize(1);
        }
    }

    @Test
    void aSecondBrokerOnTheSameDataIsRefusedAndTheFirstKeepsServing() throws Exception {
        try (EmbeddedKafkaBroker first = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(first)) {
            admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get();

            EmbeddedKafkaBroker second = new EmbeddedKafkaBroker(dir, 0);
            assertThatThrownBy(second::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another broker").hasMessageContaining(dir.toString());
            assertThat(second.isRunning()).isFalse();

            assertThat(admin.listTopics().names().get()).contains("kept");
        }
        // released on stop: the data can be used again
        try (EmbeddedKafkaBroker again = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(again)) {
            assertThat(admin.listTopics().names().get()).contains("kept");
        }
    }

    @Test
    void aStartOnAPortInUseSaysSoAndLeavesNothingRunning() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, taken.getLocalPort());
            assertThatThrownBy(broker::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot listen on port " + taken.getLocalPort())
                    .hasMessageContaining("keymeter.embedded-kafka.port");
            assertThat(broker.isRunning()).isFalse();
        } finally {
            root.detachAppender(logged);
        }
        // the port is tried first: Kafka logged three ERRORs with ~300 lines of stack trace before the short report
        assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.ERROR).extracting(ILoggingEvent::getLoggerName)
                .isEmpty();
        // the controller half had started: its threads kept the JVM alive, its metadata log open
        await().atMost(Duration.ofSeconds(30)).pollInSameThread().untilAsserted(() ->
                assertThat(Thread.getAllStackTraces().keySet())
                        .filteredOn(t -> !before.contains(t) && t.isAlive() && !t.isDaemon())
                        .extracting(Thread::getName).isEmpty());
        // and the data can be used at once by a broker that starts, and keeps what it writes
        try (EmbeddedKafkaBroker again = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(again)) {
            admin.createTopics(List.of(new NewTopic("after-the-failed-start", 1, (short) 1))).all().get();
            assertThat(admin.listTopics().names().get()).contains("after-the-failed-start");
        }
    }

    @Test
    void theBrokersOwnSessionLapsesAfterFourSecondsSoARestartAfterAHardKillIsAcceptedSooner() throws Exception {
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(broker)) {
            ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, "1");
            Config config = admin.describeConfigs(List.of(node)).all().get().get(node);
            // Kafka's defaults are 9000 and 2000: a restart after kill -9 waited 9 s for the dead incarnation
            assertThat(config.get("broker.session.timeout.ms").value()).isEqualTo("4000");
            assertThat(config.get("broker.heartbeat.interval.ms").value()).isEqualTo("500");
        }
    }

    @Test
    void committedOffsetsOfAStoppedGroupAreKeptForGood() throws Exception {
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0).start(); Admin admin = admin(broker)) {
            ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, "1");
            Config config = admin.describeConfigs(List.of(node)).all().get().get(node);
            // Kafka's default is 7 days, after which a restarted topology would read its topics from the start
            assertThat(config.get("offsets.retention.minutes").value()).isEqualTo(String.valueOf(Integer.MAX_VALUE));
        }
    }

    private static Admin admin(EmbeddedKafkaBroker broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Duration.ofSeconds(30).toMillis()));
    }

    /**
     * A full disk halted the JVM with Kafka's own line only ("all log dirs … have failed"), cut off: the halt now says
     * what happened and what to do first, then halts with Kafka's status.
     */
    @Test
    void aHaltByTheBrokerSaysWhyAndWhatToDoBeforeItHalts() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        List<Integer> halted = new java.util.ArrayList<>();

        EmbeddedKafkaBroker.haltSaying(dir, new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8),
                (status, message) -> halted.add(status)).execute(1, null);

        assertThat(halted).containsExactly(1);
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("Keymeter stops: its embedded Kafka broker halted the process (status 1)")
                .contains("a write to " + dir.toAbsolutePath() + " failed: most often the disk is full")
                .contains("start Keymeter again");
    }
}
