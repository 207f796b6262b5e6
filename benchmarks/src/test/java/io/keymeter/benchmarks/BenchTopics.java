package io.keymeter.benchmarks;

import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.platform.kafka.KafkaTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/** Keymeter's public and internal topics for an in-process benchmark, each with its cleanup policy. */
final class BenchTopics {

    private BenchTopics() {
    }

    /** Creates every public and internal topic with {@code partitions} partitions, plus {@code extra}, and waits for leaders. */
    static void create(Admin admin, int partitions, List<NewTopic> extra) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (Topic<String, ?> topic : Topics.ALL) {
            topics.add(new NewTopic(topic.name(), partitions, (short) 1)
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, topic.cleanupPolicy())));
        }
        topics.addAll(extra);
        admin.createTopics(topics).all().get();
        KafkaTopics.awaitLeaders(admin, topics.stream().map(NewTopic::name).toList(), Duration.ofSeconds(60));
    }
}
