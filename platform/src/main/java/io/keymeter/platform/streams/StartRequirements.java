package io.keymeter.platform.streams;

import java.util.Map;

/**
 * What a topology asks of its topics before every start ({@link StreamsFactory}).
 *
 * @param changelogConfigs  configs its stores declare for their changelogs, by store name: given to the existing
 *                          topics ({@link ChangelogConfigs}), since Kafka Streams sets them only when it creates one
 * @param refuseLostOffsets not started when its consumer group lost its committed offsets while its changelogs hold
 *                          state ({@link LostOffsets}); only for a topology whose every changelog write follows
 *                          consumed input, so that committed state implies offsets were once committed
 */
public record StartRequirements(Map<String, Map<String, String>> changelogConfigs, boolean refuseLostOffsets) {

    /** Nothing beyond the checks every topology gets. */
    public static final StartRequirements NONE = new StartRequirements(Map.of(), false);

    public StartRequirements {
        changelogConfigs = Map.copyOf(changelogConfigs);
    }
}
