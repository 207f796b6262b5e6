package io.keymeter.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;

/**
 * Transactions in progress as their coordinators see them. A topic shows a transaction's end only once its markers
 * are written, a moment after the coordinator has logged it: a test that must know whether one is still open asks
 * here.
 */
public final class Transactions {

    private Transactions() {
    }

    /** A transaction in progress: its id, when it began (the coordinator's clock), the partitions it has written to. */
    public record InProgress(String transactionalId, long startMs, Set<TopicPartition> partitions) {
    }

    /** Every transactional id the coordinators know (each question answered within 30 s, or it fails). */
    public static Set<String> ids(Admin admin) throws ExecutionException, InterruptedException, TimeoutException {
        return admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream().map(TransactionListing::transactionalId)
                .collect(Collectors.toSet());
    }

    /** The transactions of {@code ids} in progress. */
    public static List<InProgress> inProgress(Admin admin, Set<String> ids)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<InProgress> open = new ArrayList<>();
        if (ids.isEmpty()) {
            return open;
        }
        admin.describeTransactions(ids).all().get(30, TimeUnit.SECONDS).forEach((id, description) -> {
            if (description.state() == TransactionState.ONGOING && description.transactionStartTimeMs().isPresent()) {
                open.add(new InProgress(id, description.transactionStartTimeMs().getAsLong(),
                        description.topicPartitions()));
            }
        });
        return open;
    }
}
