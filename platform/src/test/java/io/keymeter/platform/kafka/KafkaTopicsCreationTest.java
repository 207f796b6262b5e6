package io.keymeter.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ForwardingAdmin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class KafkaTopicsCreationTest {

    @TempDir
    Path dir;

    @Test
    void topicsCreatedPartlyByAnotherInstanceAtTheSameMomentAreStillAwaitedBeforeTheChecks() throws Exception {
        List<String> names = Topics.ALL.stream().map(Topic::name).toList();
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start()) {
            Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            Set<String> awaited = ConcurrentHashMap.newKeySet();
            try (Admin other = Admin.create(config); Admin racing = new ForwardingAdmin(config) {
                @Override
                public CreateTopicsResult createTopics(Collection<NewTopic> topics, CreateTopicsOptions options) {
                    try { // another instance creates the first of them just before this one asks for all
                        other.createTopics(List.of(topics.iterator().next())).all().get();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return super.createTopics(topics, options);
                }

                @Override
                public ListOffsetsResult listOffsets(Map<TopicPartition, OffsetSpec> offsets, ListOffsetsOptions options) {
                    offsets.keySet().forEach(p -> awaited.add(p.topic()));
                    return super.listOffsets(offsets, options);
                }
            }) {
                KafkaTopics.createMissing(racing, new KeymeterProperties(null, dir.resolve("data"), null, null, null,
                        null, null, null, null, null, null));

                // before, a TopicExistsException skipped the wait for every topic, those this instance made too
                assertThat(awaited).containsExactlyInAnyOrderElementsOf(names);
                assertThat(other.listTopics().names().get()).containsAll(names);
            }
        }
    }

    @Test
    void withThreeReplicasOrMoreTwoMustBeInSyncAndWithFewerTheClustersDefaultStays() {
        Duration week = Duration.ofDays(7);
        assertThat(KafkaTopics.configsOf(Topics.REQUESTS, week, 3))
                .containsEntry(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "2");
        assertThat(KafkaTopics.configsOf(Topics.API_KEYS, week, 5))
                .containsEntry(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "2");
        assertThat(KafkaTopics.configsOf(Topics.REQUESTS, week, 2)).doesNotContainKey(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
        assertThat(KafkaTopics.configsOf(Topics.REQUESTS, week, 1)).doesNotContainKey(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
    }

    @Test
    void aTopicWithFewerReplicasThanConfiguredIsNamed() {
        Node one = new Node(1, "a", 9092);
        Node two = new Node(2, "b", 9092);
        Node three = new Node(3, "c", 9092);
        TopicDescription full = new TopicDescription("full", false, List.of(
                new TopicPartitionInfo(0, one, List.of(one, two, three), List.of(one, two, three))));
        TopicDescription made = new TopicDescription("made-with-one", false, List.of(
                new TopicPartitionInfo(0, one, List.of(one, two, three), List.of(one)),
                new TopicPartitionInfo(1, two, List.of(two), List.of(two))));

        assertThat(KafkaTopics.underReplicated(Map.of("full", full, "made-with-one", made), 3))
                .containsExactly("made-with-one has 1 (wanted 3)");
        assertThat(KafkaTopics.underReplicated(Map.of("made-with-one", made), 1)).isEmpty();
    }
}
