package io.keymeter.platform.streams;

import io.keymeter.platform.kafka.TopicConfigs;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;

/**
 * Gives a topology's existing changelog topics the configs its stores declare. Kafka Streams applies a store's
 * changelog configs only when it creates the topic, so a setting derived from Keymeter's configuration (the key
 * history's compaction lag from {@code keymeter.ingest.max-age}, the dedupe changelog's segment length from the
 * dedupe window) or changed by a later Keymeter would otherwise stay as the first start left it. A compaction lag
 * shorter than the key history lets the broker compact away versions the store still answers for, and a new instance
 * or a lost disk then restores a history with holes: a late request judged by the wrong state.
 */
final class ChangelogConfigs {

    private ChangelogConfigs() {
    }

    /**
     * Sets every declared config that differs on the existing topics among {@code declared} (topic → config →
     * value); topics not in {@code existing} are left to Kafka Streams, which creates them with these configs.
     * Returns one line per config changed: topic, name, old value, new value.
     */
    static List<String> apply(Admin admin, Map<String, Map<String, String>> declared, Collection<String> existing,
                              Duration timeout) throws ExecutionException, TimeoutException, InterruptedException {
        Map<String, Map<String, String>> onExisting = declared.entrySet().stream()
                .filter(e -> existing.contains(e.getKey()))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        return TopicConfigs.update(admin, onExisting, (current, value) -> !Objects.equals(current, value), timeout);
    }
}
