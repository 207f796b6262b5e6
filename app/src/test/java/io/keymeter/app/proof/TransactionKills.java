package io.keymeter.app.proof;

import static org.awaitility.Awaitility.await;

import io.keymeter.testsupport.Transactions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * Kills a child JVM inside one of its transactions, for the crash proofs: a kill made when a topic merely showed
 * records above its stable end often found a transaction already committing, and aborted nothing.
 */
final class TransactionKills {

    private TransactionKills() {
    }

    /** A transaction in progress that has written to some topics: its id, its start (broker clock), those partitions. */
    record OpenTransaction(String transactionalId, long startMs, Set<TopicPartition> outputs) {
    }

    /** The transactions of {@code ids} in progress that have written to {@code topics}. */
    static List<OpenTransaction> openTransactions(Admin admin, Set<String> ids, List<String> topics) throws Exception {
        List<OpenTransaction> open = new ArrayList<>();
        for (Transactions.InProgress transaction : Transactions.inProgress(admin, ids)) {
            Set<TopicPartition> outputs = transaction.partitions().stream()
                    .filter(partition -> topics.contains(partition.topic())).collect(Collectors.toSet());
            if (!outputs.isEmpty()) {
                open.add(new OpenTransaction(transaction.transactionalId(), transaction.startMs(), outputs));
            }
        }
        return open;
    }

    /**
     * A transaction of one of {@code ids} open on {@code topics}, begun 0.4 to 1 s ago: it has had time to write,
     * and with a commit every 1–2 s and records arriving all the time it is rarely committing already (which the
     * freeze in {@link #killInsideTransaction} then finds).
     */
    private static OpenTransaction awaitYoungOpenTransaction(Admin admin, Callable<Set<String>> ids,
                                                             List<String> topics, Duration atMost) {
        return await("a transaction open on " + topics + ", begun 0.4 to 1 s ago")
                .atMost(atMost).pollInterval(Duration.ofMillis(5))
                .until(() -> openTransactions(admin, ids.call(), topics).stream().filter(t -> {
                    long age = System.currentTimeMillis() - t.startMs();
                    return age >= 400 && age < 1000;
                }).findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    /**
     * Kills {@code app} inside a transaction of {@code ids} open on {@code topics}. A young one is found, the JVM
     * frozen (SIGSTOP: it can begin no commit), and killed only if that transaction is still in progress 1 s later;
     * otherwise it is thawed and the next one tried. Looking and then killing, a transaction could commit in between.
     * A commit sent just before the freeze can still reach a slow coordinator after that second (with 300 ms, a
     * loaded machine could fail the two-instance proof's check after the kill): callers check that
     * the transaction stays open after the kill ({@link #staysOpen}). Empty, the app still running, when none was
     * caught within {@code atMost}.
     */
    static Optional<OpenTransaction> killInsideTransaction(Admin admin, ChildApp app, Callable<Set<String>> ids,
                                                           List<String> topics, Duration atMost) throws Exception {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (true) {
            Duration left = Duration.ofNanos(deadline - System.nanoTime());
            if (left.compareTo(Duration.ofMillis(100)) < 0) { // Awaitility refuses an atMost within its poll delay
                return Optional.empty();
            }
            OpenTransaction open;
            try {
                open = awaitYoungOpenTransaction(admin, ids, topics, left);
            } catch (ConditionTimeoutException e) {
                return Optional.empty();
            }
            app.freeze();
            boolean killed = false;
            try {
                if (staysOpen(admin, open, topics, Duration.ofSeconds(1))) {
                    app.kill();
                    killed = true;
                    return Optional.of(open);
                }
            } finally {
                if (!killed) {
                    app.thaw();
                }
            }
            System.out.println("transaction " + open + " not kept open during the freeze: thawed, looking again");
        }
    }

    /**
     * Whether {@code open} stays in progress for {@code hold}, polled; false as soon as it is seen ended. Its producer
     * frozen or dead, only a commit already on its way can end it (the transaction timeout is far longer).
     */
    static boolean staysOpen(Admin admin, OpenTransaction open, List<String> topics, Duration hold) {
        Callable<Boolean> isOpen = () -> openTransactions(admin, Set.of(open.transactionalId()), topics).stream()
                .anyMatch(t -> t.startMs() == open.startMs());
        try {
            await("transaction " + open + " open for " + hold).during(hold).atMost(hold.plusSeconds(1))
                    .pollInterval(Duration.ofMillis(20)).failFast("transaction " + open + " ended", () -> !isOpen.call())
                    .until(isOpen);
            return true;
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            return false;
        }
    }
}
