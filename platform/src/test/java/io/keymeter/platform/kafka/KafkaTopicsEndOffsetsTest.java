package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keymeter.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link KafkaTopics#endOffsets} on a real broker: a topic still unknown is asked again until the deadline. */
@Timeout(120)
class KafkaTopicsEndOffsetsTest {

    @TempDir
    static Path dir;
    private static EmbeddedKafkaBroker broker;
    private static Admin admin;

    @BeforeAll
    static void start() {
        broker = new EmbeddedKafkaBroker(dir, 0).start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    @Test
    void aTopicCreatedWhileWaitingIsAnsweredOnceItExists() throws Exception {
        // the first describe is sent before the topic exists (creation needs a controller commit first); without
        // the retry it would fail with UnknownTopicOrPartitionException
        CompletableFuture<Map<TopicPartition, Long>> ends = CompletableFuture.supplyAsync(() -> {
            try {
                return KafkaTopics.endOffsets(admin, List.of("arrives-late"), IsolationLevel.READ_UNCOMMITTED,
                        Duration.ofSeconds(30));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        admin.createTopics(List.of(new NewTopic("arrives-late", 2, (short) 1))).all().get();

        assertThat(ends.get(60, TimeUnit.SECONDS)).containsOnlyKeys(
                new TopicPartition("arrives-late", 0), new TopicPartition("arrives-late", 1));
    }

    @Test
    void aTopicThatNeverExistsStillFailsAtTheDeadline() {
        long started = System.nanoTime();
        assertThatThrownBy(() -> KafkaTopics.endOffsets(admin, List.of("never-created"),
                IsolationLevel.READ_UNCOMMITTED, Duration.ofSeconds(2)))
                // the unknown-topic answer itself, or the timeout of the attempt that the deadline cut short
                .isInstanceOfAny(ExecutionException.class, TimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("gave up after its deadline, not before")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }
}
