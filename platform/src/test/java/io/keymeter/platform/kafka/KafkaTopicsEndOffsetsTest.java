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
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsResult;
import org.apache.kafka.clients.admin.ForwardingAdmin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
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
        // the topic is created only after the first describe was answered "unknown topic": without the retry that
        // answer would fail the call
        AtomicInteger describes = new AtomicInteger();
        CompletableFuture<Throwable> firstAnswer = new CompletableFuture<>();
        try (Admin counting = new ForwardingAdmin(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers())) {
            @Override
            public DescribeTopicsResult describeTopics(TopicCollection topics, DescribeTopicsOptions options) {
                DescribeTopicsResult result = super.describeTopics(topics, options);
                if (describes.incrementAndGet() == 1) {
                    try {
                        result.allTopicNames().get(30, TimeUnit.SECONDS);
                        firstAnswer.complete(null);
                    } catch (Exception e) {
                        firstAnswer.complete(e instanceof ExecutionException ? e.getCause() : e);
                    }
                }
                return result;
            }
        }) {
            CompletableFuture<Map<TopicPartition, Long>> ends = CompletableFuture.supplyAsync(() -> {
                try {
                    return KafkaTopics.endOffsets(counting, List.of("arrives-late"), IsolationLevel.READ_UNCOMMITTED,
                            Duration.ofSeconds(30));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(firstAnswer.get(30, TimeUnit.SECONDS)).as("the first describe's answer")
                    .isInstanceOf(UnknownTopicOrPartitionException.class);
            admin.createTopics(List.of(new NewTopic("arrives-late", 2, (short) 1))).all().get();

            assertThat(ends.get(60, TimeUnit.SECONDS)).containsOnlyKeys(
                    new TopicPartition("arrives-late", 0), new TopicPartition("arrives-late", 1));
            assertThat(describes.get()).as("asked again after the unknown topic").isGreaterThanOrEqualTo(2);
        }
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
