package io.keymeter.platform.kafka;

import io.keymeter.events.Topic;
import io.keymeter.events.Topics;
import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.config.KeymeterProperties;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Creates Keymeter's topics when missing, then checks what it depends on: cleanup policies (a key-state topic
 * with {@code delete} loses old keys to retention) and equal partition counts of the topics joined without a
 * repartition step (Kafka Streams does not check this itself). Any mismatch stops start-up. It also raises a
 * retention, or a bound on record times, narrower than Keymeter needs ({@link #raiseRetention},
 * {@link #raiseTimestampBounds}).
 * Every Kafka Streams topology depends on this bean, so none starts before the check passed.
 */
@Component
public class KafkaTopics {

    private static final Logger log = LoggerFactory.getLogger(KafkaTopics.class);
    private static final long TIMEOUT_SECONDS = 60;
    private static final Duration UNKNOWN_TOPIC_BACKOFF = Duration.ofMillis(50);

    private final Map<String, Integer> partitionCounts;
    private final boolean timestampBoundsKnown;

    public KafkaTopics(KafkaClients clients, KeymeterProperties properties) {
        try (Admin admin = clients.newAdmin()) {
            createMissing(admin, properties);
            TransactionVersionCheck.warnOfTransactionsV2(admin, clients.bootstrapServers(), TIMEOUT_SECONDS);
            Map<ConfigResource, Config> configs = describeConfigs(admin);
            checkCleanupPolicies(configs);
            raiseRetention(admin, properties).forEach(change -> log.info("Topic config raised: {}", change));
            // a config the broker does not know is not described
            this.timestampBoundsKnown = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, Topics.REQUESTS.name()))
                    .get(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG) != null;
            widenTimestampBounds(admin, timestampBoundsKnown, clients.bootstrapServers());
            Map<String, TopicDescription> topics = describe(admin, allNames(), Duration.ofSeconds(TIMEOUT_SECONDS));
            this.partitionCounts = partitionCounts(topics);
            checkCoPartitioning(partitionCounts);
            underReplicated(topics, properties.topics().replicationFactor())
                    .forEach(line -> log.warn("Fewer replicas than keymeter.topics.replication-factor: {}", line));
        } catch (ExecutionException | TimeoutException e) {
            throw unanswered(clients.bootstrapServers(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking topics", e);
        }
    }

    /**
     * Whether the cluster knows {@code message.timestamp.before/after.max.ms} (Kafka 3.6 and later): a topic created
     * with a config its broker does not know is refused, so Kafka Streams is given them only then.
     */
    public boolean timestampBoundsKnown() {
        return timestampBoundsKnown;
    }

    /**
     * A cluster that cannot be reached, or refuses Keymeter's principal, is the operator's to fix: a short report
     * naming the servers and what to check, where it ended in a stack trace around the one line that said so.
     */
    static RuntimeException unanswered(String servers, Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        String problem = "Kafka at " + servers + " did not answer while Keymeter checked its topics ("
                + cause.getMessage() + ").";
        if (cause instanceof TimeoutException || cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            // a broker that wants a sign-in drops a client that sends none without a word: the same time-out
            return new StartupRefusedException(problem, "Check spring.kafka.bootstrap-servers, and that the cluster is up"
                    + " and its advertised listeners reachable from here, and whether it wants a sign-in (another"
                    + " Keymeter's embedded broker does: give " + KafkaClients.CLIENT_PROPERTIES + "=<its data dir>/"
                    + "kafka-client.properties); then start Keymeter again.", e);
        }
        if (cause instanceof AuthenticationException) {
            // a wrong password was told to see to the principal's rights
            return new StartupRefusedException("Kafka at " + servers + " refused Keymeter's sign-in: "
                    + cause.getMessage(), "Check the sign-in settings (" + KafkaClients.CLIENT_PROPERTIES + " or"
                    + " spring.kafka.properties.sasl.*): another Keymeter's embedded broker takes those in its data"
                    + " dir's kafka-client.properties.", e);
        }
        if (cause instanceof AuthorizationException) {
            return new StartupRefusedException("Kafka at " + servers + " refused Keymeter: " + cause.getMessage(),
                    "Give Keymeter's principal the rights listed in the README, \"Who may use the cluster\".", e);
        }
        return new IllegalStateException(problem, e);
    }

    /**
     * Not fatal, unlike the keep times: a refused change, or a broker before 3.6 (which bounds record times by
     * {@code message.timestamp.difference.max.ms}, unbounded by default), leaves a warning.
     */
    private static void widenTimestampBounds(Admin admin, boolean known, String servers) throws InterruptedException {
        if (!known) {
            log.warn("Kafka at {} does not know message.timestamp.before/after.max.ms (a broker before 3.6): Keymeter"
                    + " writes records stamped with request times, up to max-age back; keep"
                    + " message.timestamp.difference.max.ms unbounded (its default)", servers);
            return;
        }
        try {
            raiseTimestampBounds(admin, Topics.ALL.stream().map(Topic::name).toList(),
                    Duration.ofSeconds(TIMEOUT_SECONDS)).forEach(change -> log.info("Topic config raised: {}", change));
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Could not widen the record-time bounds of Keymeter's topics to {}: {}; set them with"
                    + " kafka-configs --alter, or Kafka refuses records stamped with old request times",
                    timestampBounds(), e.toString());
        }
    }

    public int partitions(String topic) {
        return partitionCounts.get(topic);
    }

    /** The partition count of each of {@code topics}, which must exist, as Kafka describes them now. */
    public static Map<String, Integer> partitionCounts(Admin admin, Collection<String> topics, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        return partitionCounts(describe(admin, topics, timeout));
    }

    private static Map<String, Integer> partitionCounts(Map<String, TopicDescription> topics) {
        return topics.values().stream()
                .collect(Collectors.toUnmodifiableMap(TopicDescription::name, d -> d.partitions().size()));
    }

    private static Map<String, TopicDescription> describe(Admin admin, Collection<String> topics, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        return admin.describeTopics(topics).allTopicNames().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * One line per topic with a partition of fewer replicas than configured. A topic's replication factor is set when
     * it is created, so one made before the setting was raised (or by hand) keeps fewer: said, not changed (a
     * reassignment is the operator's to plan), and not refused (it runs, with less safety than asked for).
     */
    static List<String> underReplicated(Map<String, TopicDescription> topics, int wanted) {
        return topics.values().stream()
                .filter(d -> d.partitions().stream().anyMatch(p -> p.replicas().size() < wanted))
                .map(d -> d.name() + " has " + d.partitions().stream().mapToInt(p -> p.replicas().size()).min()
                        .orElse(0) + " (wanted " + wanted + ")")
                .sorted()
                .toList();
    }

    /** Fails when topics that are joined without repartitioning have different partition counts. */
    static void checkCoPartitioning(Map<String, Integer> partitionCounts) {
        for (List<String> group : Topics.CO_PARTITIONED) {
            Map<String, Integer> counts = new HashMap<>();
            group.forEach(name -> counts.put(name, partitionCounts.get(name)));
            if (Set.copyOf(counts.values()).size() > 1) {
                throw new IllegalStateException("Topics " + group + " must have the same number of partitions "
                        + "(they are joined by keyId without a repartition step), but have " + counts
                        + ". A topic's partition count is fixed once it holds records: adding partitions sends a "
                        + "key to another partition than its earlier records (README, \"Partition counts are fixed\").");
            }
        }
    }

    private static List<String> allNames() {
        return Topics.ALL.stream().map(Topic::name).toList();
    }

    /**
     * Retention of the delete-policy topics. Retention is judged by record timestamps; ingest stamps a request with
     * the time it received it, but a gateway producing directly may stamp it with its own time, up to
     * {@code keymeter.ingest.max-age} old: with Kafka's default of 7 days a segment of old-stamped requests could be
     * deleted before metering read it. One week beyond max-age is kept.
     */
    static Duration retentionOf(KeymeterProperties properties) {
        return properties.ingest().maxAge().plus(MIN_RETENTION_BEYOND_MAX_AGE);
    }

    static final Duration MIN_RETENTION_BEYOND_MAX_AGE = Duration.ofDays(7);

    /**
     * Creates those of Keymeter's topics that do not exist yet, with the configured partitions and the configs start-up
     * gives them, and returns once their leaders serve them (tests that run a topology without the application use it).
     */
    public static void createMissing(Admin admin, KeymeterProperties properties)
            throws ExecutionException, InterruptedException, TimeoutException {
        KeymeterProperties.Topics settings = properties.topics();
        Duration retention = retentionOf(properties);
        Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        List<NewTopic> missing = Topics.ALL.stream().filter(t -> !existing.contains(t.name()))
                .map(t -> new NewTopic(t.name(), settings.partitions(), settings.replicationFactor().shortValue())
                        .configs(configsOf(t, retention, settings.replicationFactor())))
                .toList();
        if (missing.isEmpty()) {
            return;
        }
        List<String> names = missing.stream().map(NewTopic::name).toList();
        try {
            admin.createTopics(missing).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            log.info("Created topics {}", names);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            // another instance created some at the same moment; this one may have created the others
            log.info("Topics {} created, some of them by another instance at the same moment", names);
        }
        // awaited either way: the checks that follow, and a first producer, need them served by their leaders
        awaitLeaders(admin, names, Duration.ofSeconds(TIMEOUT_SECONDS));
    }

    /**
     * Returns once every partition of the topics is served by its leader. Right after creation the broker's metadata
     * can name a leader before that leader serves the partition: an idempotent producer's first batch then fails with
     * NOT_LEADER_OR_FOLLOWER while its next batch is appended, and the retried first batch is refused as out of
     * sequence forever (seen in a benchmark on Kafka 4.4). A list-offsets call is answered by the leader itself, and
     * the admin client retries it until it is.
     */
    public static void awaitLeaders(Admin admin, Collection<String> topics, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        endOffsets(admin, topics, IsolationLevel.READ_UNCOMMITTED, timeout);
    }

    /**
     * The end offset of every partition of the topics, as its leader answers it: the log end for
     * {@code READ_UNCOMMITTED}, the last stable offset (before any open transaction) for {@code READ_COMMITTED}.
     */
    public static Map<TopicPartition, Long> endOffsets(Admin admin, Collection<String> topics, IsolationLevel isolation,
                                                       Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return endOffsetsOnce(admin, topics, isolation, deadline);
            } catch (ExecutionException e) {
                // right after creation the broker can still answer "unknown topic" (its metadata lags the
                // controller's), and the admin client does not retry that for describeTopics
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(UNKNOWN_TOPIC_BACKOFF.toMillis());
            }
        }
    }

    private static Map<TopicPartition, Long> endOffsetsOnce(Admin admin, Collection<String> topics,
                                                            IsolationLevel isolation, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get(left(deadline), TimeUnit.NANOSECONDS).values()
                .forEach(d -> d.partitions().forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()),
                        OffsetSpec.latest())));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(latest, new ListOffsetsOptions(isolation)).all()
                .get(left(deadline), TimeUnit.NANOSECONDS).forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    /**
     * What remains until {@code deadline}, in nanoseconds: cut to whole milliseconds it ended a wait up to 1 ms early,
     * and each of two waits given the whole remainder could take it twice.
     */
    private static long left(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    static Map<String, String> configsOf(Topic<String, ?> topic, Duration retention, int replicationFactor) {
        Map<String, String> configs = new HashMap<>();
        configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, topic.cleanupPolicy());
        minInSyncReplicas(replicationFactor)
                .ifPresent(min -> configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(min)));
        configs.putAll(keepTimes(topic, retention));
        return configs;
    }

    /**
     * With three replicas or more, an {@code acks=all} write waits for two of them: Kafka's default of one lets the
     * leader alone acknowledge once its followers fell out of sync, and losing that leader then loses what it
     * acknowledged (a 202 for requests, a confirmed key change). With two replicas, two in sync would stop every
     * write while either broker is down: the cluster's default is left, as with one.
     */
    public static OptionalInt minInSyncReplicas(int replicationFactor) {
        return replicationFactor >= 3 ? OptionalInt.of(2) : OptionalInt.empty();
    }

    /**
     * How long a topic keeps its records, as the configs that say it (−1: for ever). Delete-policy topics: the event
     * log for ever, the others {@code retention}, and neither by size ({@code retention.bytes} −1: a cluster's or an
     * operator's size limit deleted the oldest segments whatever their age, requests unread or the event log that
     * rebuilds every credential). The key-state topic is compacted, but keeps every version as long
     * ({@code min.compaction.lag.ms}): a metering instance that builds its key history from this topic (a first
     * start, or one whose internal topics were reset) then judges a request kept that long by the key's state at
     * its time, not by a later one left alone by compaction.
     */
    static Map<String, String> keepTimes(Topic<String, ?> topic, Duration retention) {
        if (topic.keepForever()) {
            return Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1", TopicConfig.RETENTION_BYTES_CONFIG, "-1");
        }
        if (!topic.compacted()) {
            return Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(retention.toMillis()),
                    TopicConfig.RETENTION_BYTES_CONFIG, "-1");
        }
        if (topic.name().equals(Topics.API_KEYS.name())) {
            return Map.of(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, String.valueOf(retention.toMillis()));
        }
        return Map.of();
    }

    /**
     * The partition Kafka's default partitioner gives a String key (murmur2 of its UTF-8 bytes), for reads that must
     * find a record without Kafka Streams' metadata: a credential, a billing account, a test's key.
     */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** How far ahead of the broker's clock a record's time may be: Kafka's default, which max-future-skew stays under. */
    public static final Duration RECORDS_AHEAD = Duration.ofHours(1);

    /**
     * The record times every topic Keymeter writes must take. Metering and Kafka Streams stamp what they write (totals,
     * rejections, changelogs, repartitioned requests) with the request's own time: up to max-age back, or older from a
     * gateway producing straight to {@code keymeter.requests} (its dead letter keeps that time), and up to
     * max-future-skew ahead. A cluster whose {@code log.message.timestamp.before.max.ms} or {@code after.max.ms} was
     * set narrower refused such a write, and the stream thread failed on it until metering stopped. So: no bound back,
     * as Kafka's default, and {@link #RECORDS_AHEAD} ahead.
     */
    public static Map<String, String> timestampBounds() {
        return Map.of(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, String.valueOf(Long.MAX_VALUE),
                TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, String.valueOf(RECORDS_AHEAD.toMillis()));
    }

    /**
     * Widens the record-time bounds of existing topics to {@link #timestampBounds} where they are narrower (Kafka
     * Streams' internal topics, which Keymeter does not create itself). Returns one line per config changed.
     */
    public static List<String> raiseTimestampBounds(Admin admin, Collection<String> topics, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<String, Map<String, String>> wanted = new HashMap<>();
        topics.forEach(topic -> wanted.put(topic, timestampBounds()));
        return TopicConfigs.update(admin, wanted, KafkaTopics::keepsLess, timeout);
    }

    /**
     * Gives existing topics at least the keep times Keymeter creates them with ({@link #keepTimes}). A topic's
     * configs are set when it is created, so a raised {@code keymeter.ingest.max-age}, or a topic made by hand with
     * Kafka's defaults (a week's retention, compaction at any age), kept less: a segment of requests stamped weeks
     * back (a gateway shipping old logs) could be deleted before metering read it, unbilled. A longer keep time is
     * left as it is. Returns one line per config changed; a broker that refuses the change stops start-up, as a
     * wrong cleanup policy does.
     */
    static List<String> raiseRetention(Admin admin, KeymeterProperties properties)
            throws ExecutionException, InterruptedException, TimeoutException {
        Duration retention = retentionOf(properties);
        Map<String, Map<String, String>> wanted = new HashMap<>();
        for (Topic<String, ?> topic : Topics.ALL) {
            Map<String, String> times = keepTimes(topic, retention);
            if (!times.isEmpty()) {
                wanted.put(topic.name(), times);
            }
        }
        try {
            return TopicConfigs.update(admin, wanted, KafkaTopics::keepsLess, Duration.ofSeconds(TIMEOUT_SECONDS));
        } catch (ExecutionException e) {
            throw new IllegalStateException("Keymeter needs at least " + wanted + " (times in ms: max-age "
                    + properties.ingest().maxAge() + " plus " + MIN_RETENTION_BEYOND_MAX_AGE + "; -1: for ever, or no"
                    + " size limit) and "
                    + "Kafka refused to set it: " + e.getCause().getMessage() + ". Set it with kafka-configs --alter.", e);
        }
    }

    /**
     * Whether a keep time, size or time bound (−1 for ever) is shorter than the one needed; null, a config the broker
     * does not know, is left alone (setting it would be refused).
     */
    private static boolean keepsLess(String current, String needed) {
        if (current == null) {
            return false;
        }
        long actual = Long.parseLong(current);
        long wanted = Long.parseLong(needed);
        return actual != -1 && (wanted == -1 || actual < wanted);
    }

    /** The configs of Keymeter's topics, as the broker describes them. */
    private static Map<ConfigResource, Config> describeConfigs(Admin admin)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<ConfigResource> resources = Topics.ALL.stream()
                .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList();
        return admin.describeConfigs(resources).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static void checkCleanupPolicies(Map<ConfigResource, Config> configs) {
        for (Topic<String, ?> topic : Topics.ALL) {
            String actual = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()))
                    .get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
            if (!actual.equals(topic.cleanupPolicy())) {
                throw new IllegalStateException("Topic " + topic.name() + " has cleanup.policy=" + actual
                        + " but Keymeter needs " + topic.cleanupPolicy());
            }
        }
    }
}
