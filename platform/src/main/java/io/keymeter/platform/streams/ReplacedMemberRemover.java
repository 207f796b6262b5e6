package io.keymeter.platform.streams;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a failed stream thread's static member out of its group once the thread is gone, and all of this
 * instance's members once Keymeter has shut the application down.
 * <p>
 * Kafka Streams replaces a failed thread with one under a new index, so under a new {@code group.instance.id}
 * ({@code <id>-<index>}), while the failed thread leaves no group: a static member stays. Its partitions would then
 * wait for the session timeout (45 s) before the group gives them to anyone. Removing the member through the admin
 * API, as soon as the failed thread has closed its consumer, hands them over at once.
 */
final class ReplacedMemberRemover implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReplacedMemberRemover.class);
    private static final Duration THREAD_EXIT_WAIT = Duration.ofSeconds(60);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final String groupId;
    private final String instanceId;
    private final Map<String, Object> adminConfig;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "replaced-member-remover");
        thread.setDaemon(true);
        return thread;
    });

    private ReplacedMemberRemover(String groupId, String instanceId, Map<String, Object> adminConfig) {
        this.groupId = groupId;
        this.instanceId = instanceId;
        this.adminConfig = adminConfig;
    }

    /** A remover for this configuration, or none when it uses no static membership. */
    static Optional<ReplacedMemberRemover> of(Properties config) {
        Object instanceId = config.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        if (instanceId == null) {
            return Optional.empty();
        }
        StreamsConfig streamsConfig = new StreamsConfig(config);
        String groupId = streamsConfig.getString(StreamsConfig.APPLICATION_ID_CONFIG);
        return Optional.of(new ReplacedMemberRemover(groupId, instanceId.toString(),
                streamsConfig.getAdminConfigs(groupId + "-member-remover")));
    }

    /** Call from the failed thread itself (the uncaught-exception handler): its name ends in its index. */
    void removeWhenGone(Thread failed) {
        String name = failed.getName();
        String member = instanceId + name.substring(name.lastIndexOf('-'));
        executor.execute(() -> {
            try {
                failed.join(THREAD_EXIT_WAIT.toMillis());
                try (Admin admin = Admin.create(adminConfig)) {
                    admin.removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions(
                            List.of(new MemberToRemove(member)))).all().get(30, TimeUnit.SECONDS);
                }
                log.info("Removed static member {} of the failed stream thread {} from group {}", member, name, groupId);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // it may have gone already; otherwise the session timeout still ends it
                log.warn("Could not remove static member {} from group {}: {}", member, groupId, e.toString());
            }
        });
    }

    /**
     * Takes every static member of this instance out of the group, once Keymeter has shut the application down
     * ({@link TopicChange}). A static member that stayed would be handed its last assignment again on the restart,
     * without a rebalance, and the error code in it (a missing source topic) would stop the application again.
     */
    void removeAllAfterShutdown() {
        executor.execute(() -> {
            try (Admin admin = Admin.create(adminConfig)) {
                List<MemberToRemove> members = admin.describeConsumerGroups(List.of(groupId)).all()
                        .get(30, TimeUnit.SECONDS).get(groupId).members().stream()
                        .map(m -> m.groupInstanceId().orElse(""))
                        .filter(id -> id.startsWith(instanceId + "-"))
                        .map(MemberToRemove::new).toList();
                if (!members.isEmpty()) {
                    admin.removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions(members))
                            .all().get(30, TimeUnit.SECONDS);
                    log.info("Removed this instance's static members {} from group {}", members, groupId);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.warn("Could not remove this instance's static members from group {}: {}", groupId, e.toString());
            }
        });
    }

    /** Lets a removal already asked for finish (briefly): a stop right after a shutdown must not cut it off. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
