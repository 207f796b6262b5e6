package io.keymeter.platform.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;

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
        List<ConfigResource> resources = declared.keySet().stream().filter(existing::contains).sorted()
                .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
        if (resources.isEmpty()) {
            return List.of();
        }
        Map<ConfigResource, Config> current = admin.describeConfigs(resources).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<ConfigResource, Collection<AlterConfigOp>> changes = new HashMap<>();
        List<String> lines = new ArrayList<>();
        for (ConfigResource resource : resources) {
            Config config = current.get(resource);
            new TreeMap<>(declared.get(resource.name())).forEach((name, value) -> {
                ConfigEntry entry = config.get(name);
                String old = entry == null ? null : entry.value();
                if (!Objects.equals(old, value)) {
                    changes.computeIfAbsent(resource, r -> new ArrayList<>())
                            .add(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET));
                    lines.add(resource.name() + " " + name + " " + old + " -> " + value);
                }
            });
        }
        if (!changes.isEmpty()) {
            admin.incrementalAlterConfigs(changes).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        return lines;
    }
}
