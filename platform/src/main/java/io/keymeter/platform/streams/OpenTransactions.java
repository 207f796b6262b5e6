package io.keymeter.platform.streams;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.utils.Utils;

/**
 * The transactions open on partitions: on the one of {@code __consumer_offsets} that holds a consumer group's
 * committed offsets, or on any other. While one is open on a group's, its members cannot read their committed offsets
 * (Kafka answers them "unstable" until it ends): a Kafka Streams application stays out of RUNNING, its log saying
 * every minute that the last committed offset could not be determined, and nothing else. While one is open on a data
 * partition, a read_committed reader gets nothing from its first record on, committed or not.
 */
final class OpenTransactions implements StuckTopologyWatch.Finder {

    private final Admin admin;
    private final Clock clock;
    private final Duration timeout;

    OpenTransactions(Admin admin, Clock clock, Duration timeout) {
        this.admin = admin;
        this.clock = clock;
        this.timeout = timeout;
    }

    /** The transactions open on {@code group}'s offsets partition, with what their coordinators say of them. */
    @Override
    public List<OpenTransaction> onOffsetsOf(String group) throws ExecutionException, InterruptedException,
            TimeoutException {
        return on(List.of(offsetsPartitionOf(group)));
    }

    /**
     * The transactions open on {@code partitions}, with what their coordinators say of them. On a partition whose
     * records carry their own time, {@link OpenTransaction#sinceLastWrite} counts from the last one's time, not from
     * when it was written.
     */
    @Override
    public List<OpenTransaction> on(Collection<TopicPartition> partitions) throws ExecutionException,
            InterruptedException, TimeoutException {
        if (partitions.isEmpty()) {
            return List.of();
        }
        Map<TopicPartition, List<ProducerState>> open = new LinkedHashMap<>();
        admin.describeProducers(partitions).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((partition, state) -> open.put(partition, state.activeProducers().stream()
                        .filter(producer -> producer.currentTransactionStartOffset().isPresent()).toList()));
        Map<Long, String> transactionalIds = transactionalIdsOf(open.values().stream().flatMap(List::stream)
                .toList());
        Map<String, Optional<OpenTransaction.CoordinatorView>> views = new HashMap<>();
        List<OpenTransaction> found = new ArrayList<>();
        open.forEach((partition, producers) -> {
            for (ProducerState producer : producers) {
                Optional<String> transactionalId = Optional.ofNullable(transactionalIds.get(producer.producerId()));
                found.add(new OpenTransaction(partition, producer.producerId(), producer.producerEpoch(),
                        producer.currentTransactionStartOffset().getAsLong(),
                        Duration.ofMillis(Math.max(0, clock.millis() - producer.lastTimestamp())), transactionalId,
                        transactionalId.flatMap(id -> views.computeIfAbsent(id, this::coordinatorView))));
            }
        });
        return found;
    }

    /** Where the group coordinator keeps {@code group}: the partition its id hashes to, as Kafka computes it. */
    TopicPartition offsetsPartitionOf(String group) throws ExecutionException, InterruptedException,
            TimeoutException {
        String topic = Topic.GROUP_METADATA_TOPIC_NAME;
        int partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions().size();
        return new TopicPartition(topic, Utils.abs(group.hashCode()) % partitions);
    }

    /** The coordinators' transactional ids of {@code producers}, by producer id, in one listing. */
    private Map<Long, String> transactionalIdsOf(List<ProducerState> producers) throws ExecutionException,
            InterruptedException, TimeoutException {
        if (producers.isEmpty()) {
            return Map.of();
        }
        Set<Long> ids = producers.stream().map(ProducerState::producerId).collect(Collectors.toSet());
        Map<Long, String> found = new HashMap<>();
        for (TransactionListing listing : admin.listTransactions(new ListTransactionsOptions().filterProducerIds(ids))
                .all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            if (ids.contains(listing.producerId())) {
                found.putIfAbsent(listing.producerId(), listing.transactionalId());
            }
        }
        return found;
    }

    /**
     * What the coordinator says of {@code transactionalId}: {@link OpenTransaction.CoordinatorView#GONE} when it
     * no longer knows the id, nothing when it cannot say (not Keymeter's to describe on a cluster with ACLs, a
     * gateway's; no answer), which is not taken for hanging before {@link OpenTransaction#LONGEST_TIMEOUT}.
     */
    private Optional<OpenTransaction.CoordinatorView> coordinatorView(String transactionalId) {
        try {
            return Optional.of(OpenTransaction.CoordinatorView.of(admin.describeTransactions(Set.of(transactionalId))
                    .description(transactionalId).get(timeout.toMillis(), TimeUnit.MILLISECONDS)));
        } catch (ExecutionException e) {
            // listed a moment ago, gone now: that id's transaction cannot be what is open here
            return e.getCause() instanceof TransactionalIdNotFoundException
                    ? Optional.of(OpenTransaction.CoordinatorView.GONE) : Optional.empty();
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
