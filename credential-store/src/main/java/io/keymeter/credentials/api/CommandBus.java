package io.keymeter.credentials.api;

import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.credentials.lifecycle.CommandReply;
import io.keymeter.credentials.lifecycle.CredentialCommand;
import io.keymeter.credentials.lifecycle.CredentialTopics;
import io.keymeter.platform.kafka.AllPartitions;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.web.ApiProblem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Sends a command to {@code keymeter.credential-commands} and waits for its outcome on
 * {@code keymeter.credential-replies}. The replies are read by one consumer per instance that is assigned every
 * partition (no group, so every instance sees every reply whichever instance processed the command) and reads
 * {@code read_committed}: a reply is seen only once its command's events and key states are committed with it.
 * Callers wait on a future in a correlation map keyed by command id.
 */
@Component
class CommandBus implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(CommandBus.class);

    /** How long sending a command may block on the topic's metadata (Kafka down: 503, nothing applied). */
    static final Duration SEND_TIMEOUT = Duration.ofSeconds(5);
    /** A command not processed this long after it was sent is refused by the processor, never applied late. */
    static final Duration COMMAND_DEADLINE = Duration.ofSeconds(4);
    /**
     * How long past the command's deadline and the store's commit interval a call still waits for the outcome. A
     * command applied just before its deadline is answered when its transaction commits; a transaction that cannot
     * commit is aborted by the broker once Kafka Streams' exactly-once transaction timeout (10 s) has passed, but only
     * at the broker's next sweep for timed-out transactions
     * ({@code transaction.abort.timed.out.transaction.cleanup.interval.ms}, 10 s by default), and until then it can
     * still commit: 20 s after it began at most, with Kafka's defaults. Aborted, it was not applied, and is answered
     * {@code EXPIRED} once its task runs again. So a call still without an answer now finds the store stuck or down.
     * An answer given up on sooner lost a generated key's secret (its only copy is in the answer) while the key was
     * applied, and with a regeneration the caller's working key too. (It was 11 s, the timeout alone: a thread
     * stalled 12–19 s between processing and commit answered 503 and then applied the change.)
     */
    static final Duration REPLY_SLACK = Duration.ofSeconds(21);
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** A stopped credential-store topology needs a restart (an operator's): no point in retrying every second. */
    static final Duration STOPPED_RETRY_AFTER = Duration.ofSeconds(30);

    private final KafkaClients clients;
    /** The credential-store topology, which answers the commands: stopped, it never will. */
    private final StreamsApp store;
    private final Clock clock;
    /** How long a call waits for its command's outcome in all. */
    private final Duration replyWait;
    private final Map<String, CompletableFuture<CommandReply>> pending = new ConcurrentHashMap<>();
    private volatile KafkaProducer<String, CredentialCommand> producer;
    private volatile KafkaConsumer<String, CommandReply> consumer;
    private volatile Thread poller;
    private volatile boolean running;
    /**
     * Null while replies are read; otherwise why not (starting, a failed reply consumer being replaced, the reader
     * ended by an error): a change sent then could not be confirmed.
     */
    private volatile String notReadingBecause = "starting";
    /** Next offset to read, by reply partition; only the reading thread touches it after start. */
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    /** Every reply partition; used by the reading thread of the current start only. */
    private AllPartitions replyPartitions;

    /**
     * Depends on {@link KafkaTopics}: the replies topic must exist before it is assigned.
     *
     * @param commitInterval the credential store's commit interval ({@code keymeter.credentials.commit-interval})
     */
    CommandBus(KafkaClients clients, KafkaTopics topics, Clock clock,
               @Value("${" + CredentialStoreConfiguration.COMMIT_INTERVAL + ":PT0S}") Duration commitInterval,
               @Qualifier(CredentialStoreConfiguration.STREAMS) StreamsApp store) {
        this.clients = clients;
        this.store = store;
        this.clock = clock;
        this.replyWait = replyWait(commitInterval);
    }

    static Duration replyWait(Duration commitInterval) {
        return COMMAND_DEADLINE.plus(commitInterval).plus(REPLY_SLACK);
    }

    /** The deadline a command sent now carries. */
    Instant deadline() {
        return clock.instant().plus(COMMAND_DEADLINE);
    }

    /**
     * Sends and waits. Only a reply ends the wait with an answer; no reply in time (see {@link #REPLY_SLACK}) is a
     * 503, and then the command was applied in full or not at all.
     */
    CommandReply send(CredentialCommand command) {
        long deadlineNanos = System.nanoTime() + replyWait.toNanos();
        CompletableFuture<CommandReply> reply = new CompletableFuture<>();
        // registered before the checks: a reader ending or a stop after them finds this call and releases it
        pending.put(command.commandId(), reply);
        try {
            if (!running) {
                throw ApiProblem.unavailable("The credential store is starting or stopping.", RETRY_AFTER);
            }
            Optional<String> stopped = store.stoppedBecause();
            if (stopped.isPresent()) { // sent, the command would wait out replyWait for a reply that never comes
                throw ApiProblem.unavailable("The credential store has stopped and needs a restart; nothing was"
                        + " applied. " + stopped.get(), STOPPED_RETRY_AFTER);
            }
            if (notReadingBecause != null) {
                throw ApiProblem.unavailable("The credential store cannot read change confirmations from Kafka now;"
                        + " nothing was applied.", RETRY_AFTER);
            }
            if (reply.isDone()) { // released by a stop or a reader's end after the checks above: not sent, not applied
                throw ApiProblem.unavailable("The credential store is stopping; nothing was applied.", RETRY_AFTER);
            }
            try {
                // the reply is what confirms the change, so the call waits on it alone: a send refused ends the wait
                // early, but a late ack does not (waiting on the ack first, 5 s, answered 503 for a change applied
                // meanwhile, and a generated key's only copy of its secret was lost)
                producer.send(new ProducerRecord<>(CredentialTopics.COMMANDS.name(), command.credentialId(), command),
                        (sent, failure) -> {
                            if (failure != null) {
                                reply.completeExceptionally(new NotSentException(failure));
                            }
                        });
            } catch (KafkaException | IllegalStateException e) { // IllegalState: closed by stop
                throw notSent(command, e);
            }
            return reply.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new Unconfirmed("The change was not confirmed in time", null, RETRY_AFTER);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NotSentException notSent) {
                throw notSent(command, notSent.getCause());
            }
            // released by releaseWaiting, no reply will come; the store may still apply it until the wait would have
            // ended: retry, or read, only after that
            throw new Unconfirmed("The change cannot be confirmed: " + e.getCause().getMessage(), null,
                    settledIn(deadlineNanos));
        } catch (InterruptedException e) {
            // sent (a shutdown that outlasted the drain interrupts the request's thread): the same as a release. A
            // plain 503 with Retry-After 1 s invited a retry that could apply a regeneration twice, and a create's
            // did not name the credential it would have made
            Thread.currentThread().interrupt();
            throw new Unconfirmed("Interrupted while waiting for the change", null, settledIn(deadlineNanos));
        } finally {
            pending.remove(command.commandId());
        }
    }

    /** How long until the store can no longer apply a command whose wait ends at {@code deadlineNanos}. */
    private static Duration settledIn(long deadlineNanos) {
        Duration settled = Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())).plusSeconds(1);
        return settled.compareTo(RETRY_AFTER) > 0 ? Duration.ofSeconds(settled.toSeconds()) : RETRY_AFTER;
    }

    /** The producer of commands (a test's seam, as {@link #newConsumer} is). */
    KafkaProducer<String, CredentialCommand> newProducer(Map<String, Object> config) {
        return new KafkaProducer<>(config, CredentialTopics.COMMANDS.keySerde().serializer(),
                CredentialTopics.COMMANDS.valueSerde().serializer());
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        Map<String, Object> producerConfig = clients.producer("keymeter-credential-commands");
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // send() itself blocks while it fetches the topic's metadata (Kafka's default: 60 s), which a producer idle
        // for 5 minutes has dropped: with the broker gone, a call hung a minute before its 503
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) SEND_TIMEOUT.toMillis());
        producer = newProducer(producerConfig);
        // positions resolved now: a reply to a command sent after start() returns is never skipped
        positions.clear();
        replyPartitions = new AllPartitions(CredentialTopics.REPLIES.name());
        notReadingBecause = "starting";
        running = true; // before opening: a stop() meanwhile must find the consumer (see openReplies)
        KafkaConsumer<String, CommandReply> first;
        try {
            first = openReplies();
        } catch (RuntimeException e) {
            running = false;
            producer.close(Duration.ZERO);
            throw e;
        }
        CountDownLatch started = new CountDownLatch(1);
        notReadingBecause = null;
        poller = new Thread(() -> readReplies(first, started), "credential-replies");
        poller.setDaemon(true);
        poller.start();
        try {
            started.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A new consumer assigned every reply partition at the positions read so far; the others at their end when
     * nothing was read yet (start), else at their beginning (added while no consumer read them). Kept in
     * {@link #consumer} from the moment it exists, so that {@link #stop} can wake it while it opens.
     */
    private KafkaConsumer<String, CommandReply> openReplies() {
        Map<String, Object> config = clients.consumer("keymeter-credential-replies");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        AllPartitions.configure(config);
        KafkaConsumer<String, CommandReply> opened = newConsumer(config);
        consumer = opened;
        try {
            if (!running) { // stop() set it before reading the field: it woke the consumer before this one
                throw new WakeupException();
            }
            List<TopicPartition> partitions = replyPartitions.assign(opened, Duration.ofSeconds(30));
            List<TopicPartition> unknown = AllPartitions.seekToKnown(opened, partitions, positions);
            if (positions.isEmpty()) {
                AllPartitions.seekToEnd(opened, unknown);
            } else {
                AllPartitions.seekToBeginning(opened, unknown);
            }
            AllPartitions.remember(opened, positions);
            return opened;
        } catch (RuntimeException | Error e) { // an Error too: the reader survives some, and must not leak this one
            closeQuietly(opened);
            throw e;
        }
    }

    /** The reply consumer; a test gives one that fails. */
    KafkaConsumer<String, CommandReply> newConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, CredentialTopics.REPLIES.keySerde().deserializer(),
                CredentialTopics.REPLIES.valueSerde().deserializer());
    }

    /**
     * Reads replies until stopped. A consumer that fails is closed and, {@link #RETRY_AFTER} later, replaced by one
     * reading on from where it stopped: a reply committed meanwhile still reaches its caller. Until the new one has
     * polled, a change answers 503 at once. (Before, a failed consumer was not replaced: every change answered 503
     * until a restart, health UP.) Out of memory and stack overflow are survived the same way; any other
     * {@code Error} ends the thread: changes then answer 503 at once, and health component
     * {@code credentialChanges} is DOWN saying so.
     */
    private void readReplies(KafkaConsumer<String, CommandReply> first, CountDownLatch started) {
        started.countDown();
        KafkaConsumer<String, CommandReply> current = first;
        try {
            while (current != null && active()) {
                String stoppedBy = "the replies consumer stopped";
                try {
                    pollReplies(current);
                } catch (WakeupException e) {
                    // stopping
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    log.error("Credential replies consumer failed; changes answer 503 until a new one reads on", e);
                    stoppedBy = "the replies consumer failed (" + e + ")";
                }
                if (active()) { // a reader a later start() replaced must not touch the new one's state
                    notReadingBecause = stoppedBy + "; a new one reads on from where it stopped";
                }
                closeQuietly(current);
                current = null;
                if (active()) {
                    LockSupport.parkNanos(RETRY_AFTER.toNanos());
                    current = reopen();
                }
            }
        } catch (Error e) {
            if (active()) {
                notReadingBecause = "the replies reader stopped on " + e + "; restart Keymeter";
                releaseWaiting("the credential store stopped reading confirmations");
            }
            log.error("Credential replies reader stopped; every change answers 503 until a restart", e);
        } finally {
            if (poller == Thread.currentThread() && notReadingBecause == null) { // not replaced by a later start()
                notReadingBecause = "the replies reader stopped";
            }
            if (current != null) {
                closeQuietly(current);
            }
        }
    }

    /** True while this thread is the bus's reader: not stopped, and not replaced by a later start. */
    private boolean active() {
        return running && poller == Thread.currentThread();
    }

    /** A new reply consumer, retried every {@link #RETRY_AFTER} while active; null once stopped. */
    private KafkaConsumer<String, CommandReply> reopen() {
        while (active()) {
            try {
                KafkaConsumer<String, CommandReply> reopened = openReplies();
                log.info("Credential replies consumer replaced; reading on from where the failed one stopped");
                return reopened;
            } catch (WakeupException e) {
                return null; // stopping
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                log.warn("Could not open a credential replies consumer: {}", e.toString());
                if (active()) {
                    notReadingBecause = "could not open a replies consumer (" + e + "); retrying every second";
                }
                LockSupport.parkNanos(RETRY_AFTER.toNanos());
            }
        }
        return null;
    }

    private void pollReplies(KafkaConsumer<String, CommandReply> replies) {
        while (active()) {
            ConsumerRecords<String, CommandReply> records;
            try {
                records = replies.poll(Duration.ofSeconds(1));
            } catch (RecordDeserializationException e) {
                // not a reply this version can read (a stray record, a newer version's): skip it, or every
                // call after it would answer 503 until a restart
                log.warn("Skipped an unreadable record on {} at offset {}", e.topicPartition(), e.offset());
                replies.seek(e.topicPartition(), e.offset() + 1);
                continue;
            }
            notReadingBecause = null;
            for (ConsumerRecord<String, CommandReply> record : records) {
                if (record.key() == null || record.value() == null) {
                    continue;
                }
                CompletableFuture<CommandReply> waiting = pending.get(record.key());
                if (waiting != null) {
                    waiting.complete(record.value());
                }
            }
            // replies keyed to a partition added later are sent there: without this, every call would time out
            replyPartitions.follow(replies);
            AllPartitions.remember(replies, positions);
        }
    }

    /**
     * Answers every call still waiting when no reply can reach it any more (the reader ended, the bus stopped): at
     * once, instead of when its wait runs out. Set after {@link #notReadingBecause} or {@link #running}, which calls
     * check after registering, so none is missed.
     */
    private void releaseWaiting(String why) {
        pending.values().forEach(waiting -> waiting.completeExceptionally(new NoReplyException(why)));
    }

    /** Kafka refused the command (metadata not in time, the record refused): it was never written. */
    private static ApiProblem notSent(CredentialCommand command, Throwable why) {
        log.warn("Could not send credential command {}: {}", command.commandId(), why.toString());
        return ApiProblem.unavailable("Kafka cannot take the change now; nothing was applied.", RETRY_AFTER);
    }

    /** The send of a waiting call's command failed. */
    private static final class NotSentException extends RuntimeException {
        NotSentException(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    /** Why a waiting call will get no reply. */
    private static final class NoReplyException extends RuntimeException {
        NoReplyException(String message) {
            super(message, null, false, false);
        }
    }

    private static void closeQuietly(KafkaConsumer<String, CommandReply> replies) {
        try {
            replies.close(Duration.ofSeconds(5));
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            log.warn("Closing a credential replies consumer failed: {}", e.toString());
        }
    }

    /**
     * Why a change would answer 503 now, or empty when changes are confirmed: the bus is starting or stopped, its
     * reply consumer is being replaced after a failure, or its reader ended on an error (a restart is needed), or
     * the credential-store topology that answers commands has stopped.
     */
    Optional<String> unavailableBecause() {
        if (!running) {
            return Optional.of("the credential store is not running");
        }
        Optional<String> stopped = store.stoppedBecause();
        return stopped.isPresent() ? stopped : Optional.ofNullable(notReadingBecause);
    }

    @Override
    public synchronized void stop() {
        if (!running && poller == null) {
            return;
        }
        running = false;
        releaseWaiting("the credential store is stopping");
        KafkaConsumer<String, CommandReply> current = consumer;
        if (current != null) {
            try {
                current.wakeup();
            } catch (RuntimeException e) {
                // already closed
            }
        }
        try {
            poller.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
        // a reader still opening a consumer sees it is no longer the bus's and ends
        poller = null;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Before the web server takes calls; after the topics exist. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 2048;
    }

    /**
     * A change sent whose outcome is not known: applied in full or not at all. A 503 whose {@code Retry-After} lasts
     * until the store can no longer apply it (a call released early, the reply reader gone, would have waited longer).
     */
    static final class Unconfirmed extends ApiProblem {

        private final String why;

        /** {@code createdAt}: the path of the credential a create would have made, or null for any other change. */
        Unconfirmed(String why, String createdAt, Duration settledIn) {
            super(503, "Service unavailable", why + "; it was applied in full or not at all. " + (createdAt == null
                    ? "Read the credential before retrying."
                    : "Read " + createdAt + " before retrying, once Retry-After has passed: from then on it exists"
                    + " only if the change was applied, and a retry creates another credential."), List.of(), settledIn);
            this.why = why;
        }

        /**
         * The same for a create, naming the credential it would have made: its id is made here, so the caller had
         * nothing to read, and a retry could create a second one.
         */
        Unconfirmed created(String path) {
            return new Unconfirmed(why, path, retryAfter());
        }
    }
}
