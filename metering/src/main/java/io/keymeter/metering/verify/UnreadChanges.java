package io.keymeter.metering.verify;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;

/**
 * Key states written to {@code keymeter.api-keys} that verify's read_committed reader has not read yet, as a
 * read_uncommitted reader ahead of it saw them. Normally each is read within milliseconds, once its transaction
 * commits. One written behind a transaction left open waits as long as that stays open (until its coordinator's
 * timeout for a dead producer, for good for a hanging one): verify must not answer for that key from the state it
 * holds, which the unread one, an invalidation perhaps, replaces. Keys with nothing unread are answered as before.
 * <p>
 * Fed by two threads (the ahead reader with {@link #seen}, the committed one with {@link #readTo}); {@link #waiting}
 * reads without a lock, for the request path.
 */
final class UnreadChanges {

    /** A key state seen ahead: where, and when (nanoTime) it was first seen. */
    record Unread(String keyId, TopicPartition partition, long offset, long seenAt) {
    }

    private final int capacity;
    /** The unread states by partition, in offset order. */
    private final Map<TopicPartition, ArrayDeque<Unread>> byPartition = new HashMap<>();
    /** The unread states by key, oldest first. */
    private final Map<String, ArrayDeque<Unread>> byKey = new HashMap<>();
    /** Each key's oldest unread state, for the request path. */
    private final Map<String, Unread> oldest = new ConcurrentHashMap<>();
    /** The committed reader's next offset by partition. */
    private final Map<TopicPartition, Long> readTo = new HashMap<>();
    /** The ahead reader's last offset by partition: a reader started over sees records again. */
    private final Map<TopicPartition, Long> seenTo = new HashMap<>();
    /** Where more was unread than {@link #capacity}: the last offset dropped there, and since when (nanoTime). */
    private record Overflow(long lastDropped, long since) {
    }

    /** Partitions on which more was unread than {@link #capacity}. */
    private final Map<TopicPartition, Overflow> overflowed = new HashMap<>();
    private int size;
    private volatile boolean anyOverflowed;

    UnreadChanges(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Notes a key state the ahead reader saw at {@code now} (nanoTime), unless the committed reader has read it
     * already or it was seen before.
     */
    synchronized void seen(String keyId, TopicPartition partition, long offset, long now) {
        Long last = seenTo.get(partition);
        if (last != null && offset <= last) {
            return;
        }
        seenTo.put(partition, offset);
        if (keyId == null || offset < readTo.getOrDefault(partition, 0L)) {
            return;
        }
        if (size >= capacity) {
            // more than the bound waits: the partition as a whole is unread until the reader gets past this; what
            // comes once there is room again is tracked one by one, so the mark stops moving and can be passed
            Overflow before = overflowed.get(partition);
            overflowed.put(partition, new Overflow(offset, before == null ? now : before.since()));
            anyOverflowed = true;
            return;
        }
        Unread unread = new Unread(keyId, partition, offset, now);
        byPartition.computeIfAbsent(partition, p -> new ArrayDeque<>()).addLast(unread);
        byKey.computeIfAbsent(keyId, k -> new ArrayDeque<>()).addLast(unread);
        oldest.putIfAbsent(keyId, unread);
        size++;
    }

    /** Notes the committed reader's next offsets: every state before them is read. */
    synchronized void readTo(Map<TopicPartition, Long> positions) {
        positions.forEach((partition, position) -> {
            readTo.put(partition, position);
            ArrayDeque<Unread> unread = byPartition.get(partition);
            while (unread != null && !unread.isEmpty() && unread.peekFirst().offset() < position) {
                forget(unread.pollFirst());
            }
            Overflow overflow = overflowed.get(partition);
            if (overflow != null && overflow.lastDropped() < position) {
                overflowed.remove(partition);
            }
        });
        anyOverflowed = !overflowed.isEmpty();
    }

    private void forget(Unread read) {
        size--;
        ArrayDeque<Unread> ofKey = byKey.get(read.keyId());
        ofKey.remove(read);
        if (ofKey.isEmpty()) {
            byKey.remove(read.keyId());
            oldest.remove(read.keyId());
        } else {
            oldest.put(read.keyId(), ofKey.peekFirst());
        }
    }

    /** Forgets everything: the readers start over from the committed reader's positions. */
    synchronized void clear() {
        byPartition.clear();
        byKey.clear();
        oldest.clear();
        readTo.clear();
        seenTo.clear();
        overflowed.clear();
        anyOverflowed = false;
        size = 0;
    }

    /** {@code keyId}'s oldest state unread for at least {@code after} at {@code now} (nanoTime), if any. */
    Optional<Unread> waiting(String keyId, Duration after, long now) {
        Unread unread = oldest.get(keyId);
        return unread != null && now - unread.seenAt() >= after.toNanos() ? Optional.of(unread) : Optional.empty();
    }

    /** Where the committed reader stands on {@code partition} (its next offset), or 0 before it has read there. */
    synchronized long readPosition(TopicPartition partition) {
        return readTo.getOrDefault(partition, 0L);
    }

    /**
     * The partitions on which a state has waited unread for {@code after} at {@code now} (nanoTime), or on which more
     * than the bound waits, each with the committed reader's position there, by partition number.
     */
    synchronized Map<TopicPartition, Long> heldLongerThan(Duration after, long now) {
        Map<TopicPartition, Long> held = new LinkedHashMap<>();
        Stream.concat(byPartition.entrySet().stream()
                        .filter(e -> !e.getValue().isEmpty() && now - e.getValue().peekFirst().seenAt() >= after.toNanos())
                        .map(Map.Entry::getKey), overflowed.entrySet().stream()
                        .filter(e -> now - e.getValue().since() >= after.toNanos()).map(Map.Entry::getKey))
                .distinct().sorted(Comparator.comparingInt(TopicPartition::partition))
                .forEach(partition -> held.put(partition, readPosition(partition)));
        return held;
    }

    /**
     * The partitions on which more than the bound has waited unread for at least {@code after} at {@code now}
     * (nanoTime), with the last offset seen on each; empty when there are none.
     */
    Map<TopicPartition, Long> overflowed(Duration after, long now) {
        if (!anyOverflowed) {
            return Map.of();
        }
        synchronized (this) {
            Map<TopicPartition, Long> found = new LinkedHashMap<>();
            overflowed.entrySet().stream().filter(e -> now - e.getValue().since() >= after.toNanos())
                    .sorted(Map.Entry.comparingByKey(Comparator.comparingInt(TopicPartition::partition)))
                    .forEach(e -> found.put(e.getKey(), e.getValue().lastDropped()));
            return found;
        }
    }

    /** How many states wait unread. */
    synchronized int size() {
        return size;
    }
}
