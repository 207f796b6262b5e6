package io.keymeter.platform.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiPredicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Sets configs on existing topics where they fall short. Kafka applies a topic's configs when it is created; the
 * settings they follow (max-age, the dedupe window) can change later, so start-up brings existing topics up to date.
 */
public final class TopicConfigs {

    private TopicConfigs() {
    }

    /**
     * For each topic in {@code wanted} (topic → config → value), sets every config for which {@code change} holds
     * (current value, or null when unset; wanted value), in one call. Returns one line per config changed, in name
     * order: topic, config, old value, new value.
     */
    public static List<String> update(Admin admin, Map<String, Map<String, String>> wanted,
                                      BiPredicate<String, String> change, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (wanted.isEmpty()) {
            return List.of();
        }
        List<ConfigResource> resources = wanted.keySet().stream().sorted()
                .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
        Map<ConfigResource, Config> current = admin.describeConfigs(resources).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<ConfigResource, Collection<AlterConfigOp>> changes = new HashMap<>();
        List<String> lines = new ArrayList<>();
        for (ConfigResource resource : resources) {
            new TreeMap<>(wanted.get(resource.name())).forEach((name, value) -> {
                ConfigEntry entry = current.get(resource).get(name);
                String old = entry == null ? null : entry.value();
                if (change.test(old, value)) {
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
