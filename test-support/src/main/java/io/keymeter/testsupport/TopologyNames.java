package io.keymeter.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;

/**
 * The names in a topology: its processors, the stores they use and the topics its sources and sinks name. Kafka
 * Streams generates a name for anything left unnamed ({@code KSTREAM-SOURCE-0000000000}) from the operator's
 * position, so an operator added before it renames it, and a store's changelog or a repartition topic with it: a
 * store restored from nothing, records left unread on the old topic.
 */
public final class TopologyNames {

    private static final Pattern GENERATED = Pattern.compile(".*\\d{10}.*");

    private TopologyNames() {
    }

    /** Every name, in the order the description lists them. */
    public static List<String> all(Topology topology) {
        List<String> names = new ArrayList<>();
        for (TopologyDescription.Subtopology subtopology : topology.describe().subtopologies()) {
            for (TopologyDescription.Node node : subtopology.nodes()) {
                names.add(node.name());
                if (node instanceof TopologyDescription.Processor processor) {
                    names.addAll(processor.stores());
                } else if (node instanceof TopologyDescription.Source source && source.topicSet() != null) {
                    names.addAll(source.topicSet());
                } else if (node instanceof TopologyDescription.Sink sink && sink.topic() != null) {
                    names.add(sink.topic());
                }
            }
        }
        return names;
    }

    /** The names Kafka Streams generated (ten digits of an operator's position). */
    public static List<String> generated(Topology topology) {
        return all(topology).stream().filter(GENERATED.asMatchPredicate()).toList();
    }
}
