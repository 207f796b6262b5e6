package io.keymeter.platform.streams;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.streams.TopologyDescription;

/**
 * Checks, before a topology starts, that its existing internal topics have the partition counts Kafka Streams will
 * derive from the topics it reads: a sub-topology has as many tasks as its largest source topic has partitions, its
 * stores' changelogs as many partitions, and a repartition topic as many as the sub-topology writing it.
 * <p>
 * Kafka Streams checks this itself only when the group's leader computes an assignment. A restarted static member
 * takes its old place without one, so after partitions were added to a source topic (while it was down, or just
 * before it stopped) it would run on the old tasks and never read the added partitions, reporting RUNNING.
 */
final class InternalTopicLayout {

    private InternalTopicLayout() {
    }

    /**
     * The internal topics whose partition count differs from what the sources imply, as one sentence; empty when
     * none does (or none exists yet). {@code partitions} holds the current count of every existing topic.
     */
    static Optional<String> mismatch(TopologyDescription topology, String applicationId,
                                     Map<String, Integer> partitions) {
        Map<String, Integer> expected = expectedInternalCounts(topology, applicationId, partitions);
        List<String> wrong = new ArrayList<>();
        expected.forEach((topic, count) -> {
            Integer actual = partitions.get(topic);
            if (actual != null && !actual.equals(count)) {
                wrong.add(topic + " has " + actual + " partitions, " + count + " expected");
            }
        });
        if (wrong.isEmpty()) {
            return Optional.empty();
        }
        List<String> sources = sourceTopics(topology).stream().map(t -> t + " " + partitions.get(t)).toList();
        wrong.sort(null);
        return Optional.of("its internal topics are laid out for another partition count than the topics it reads "
                + "(" + String.join(", ", sources) + "): " + String.join("; ", wrong) + ".");
    }

    /** The topics the topology reads that are not its own internal ones, in name order. */
    static Set<String> sourceTopics(TopologyDescription topology) {
        Set<String> sources = new TreeSet<>();
        for (TopologyDescription.Subtopology sub : topology.subtopologies()) {
            for (TopologyDescription.Node node : sub.nodes()) {
                if (node instanceof TopologyDescription.Source source && source.topicSet() != null) {
                    source.topicSet().stream().filter(t -> !isRepartition(t)).forEach(sources::add);
                }
            }
        }
        return sources;
    }

    /** Expected partition counts of the topology's internal topics, by their full names. */
    static Map<String, Integer> expectedInternalCounts(TopologyDescription topology, String applicationId,
                                                       Map<String, Integer> partitions) {
        Map<String, Integer> repartitions = new HashMap<>();
        Map<Integer, Integer> tasks = new HashMap<>();
        // repartition topics chain sub-topologies: resolve until nothing changes (at most one pass per sub-topology)
        for (int pass = 0; pass <= topology.subtopologies().size(); pass++) {
            for (TopologyDescription.Subtopology sub : topology.subtopologies()) {
                Integer count = taskCount(sub, applicationId, partitions, repartitions);
                if (count == null) {
                    continue;
                }
                tasks.put(sub.id(), count);
                for (TopologyDescription.Node node : sub.nodes()) {
                    if (node instanceof TopologyDescription.Sink sink && sink.topic() != null
                            && isRepartition(sink.topic())) {
                        repartitions.put(fullName(sink.topic(), applicationId), count);
                    }
                }
            }
        }
        Map<String, Integer> expected = new HashMap<>(repartitions);
        for (TopologyDescription.Subtopology sub : topology.subtopologies()) {
            Integer count = tasks.get(sub.id());
            if (count == null) {
                continue;
            }
            for (TopologyDescription.Node node : sub.nodes()) {
                if (node instanceof TopologyDescription.Processor processor) {
                    processor.stores().forEach(store ->
                            expected.put(applicationId + "-" + store + "-changelog", count));
                }
            }
        }
        return expected;
    }

    /** The largest partition count among a sub-topology's sources; null while one of them is not known. */
    private static Integer taskCount(TopologyDescription.Subtopology sub, String applicationId,
                                     Map<String, Integer> partitions, Map<String, Integer> repartitions) {
        int max = 0;
        for (TopologyDescription.Node node : sub.nodes()) {
            if (!(node instanceof TopologyDescription.Source source) || source.topicSet() == null) {
                continue;
            }
            for (String topic : source.topicSet()) {
                Integer count = isRepartition(topic)
                        ? repartitions.get(fullName(topic, applicationId))
                        : partitions.get(topic);
                if (count == null) {
                    return null;
                }
                max = Math.max(max, count);
            }
        }
        return max == 0 ? null : max;
    }

    private static boolean isRepartition(String topic) {
        return topic.endsWith("-repartition");
    }

    /** Topology descriptions name internal topics with or without the application id, depending on when built. */
    private static String fullName(String topic, String applicationId) {
        return topic.startsWith(applicationId + "-") ? topic : applicationId + "-" + topic;
    }
}
