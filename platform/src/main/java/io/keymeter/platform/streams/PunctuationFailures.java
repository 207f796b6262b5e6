package io.keymeter.platform.streams;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The punctuations (timed work: the dedupe's sweep, the join's release of waiting requests, the credential store's
 * expiry check, the billing close) of one Kafka Streams application that failed within {@link #RECENT}, by
 * processor and task, for health to show. A failing punctuation is dead-lettered and processing goes on, so one that
 * failed every time left only letters and a sampled log line; health said nothing. {@link StreamsApp} hands its
 * instance to the {@link DeadLetterHandler}s Kafka Streams creates through the config key {@link #CONFIG}.
 */
public final class PunctuationFailures {

    /** The config key the instance travels under (an object, not a setting). */
    public static final String CONFIG = "keymeter.internal.punctuation-failures";
    static final Duration RECENT = Duration.ofMinutes(10);

    private record Failures(long firstMillis, long lastMillis, long count, String last) {
    }

    private final Map<String, Failures> byProcessorAndTask = new ConcurrentHashMap<>();

    void record(String processor, TaskId task, Exception failure, long nowMillis) {
        String last = DeadLetterHandler.described(failure);
        byProcessorAndTask.merge("processor " + processor + " (task " + task + ")",
                new Failures(nowMillis, nowMillis, 1, last),
                (before, now) -> before.lastMillis() < nowMillis - RECENT.toMillis() ? now
                        : new Failures(before.firstMillis(), nowMillis, before.count() + 1, last));
    }

    /** One line per processor and task whose punctuation failed within {@link #RECENT}, in no particular order. */
    public List<String> recent(long nowMillis) {
        byProcessorAndTask.values().removeIf(f -> f.lastMillis() < nowMillis - RECENT.toMillis());
        return byProcessorAndTask.entrySet().stream()
                .map(e -> e.getKey() + ": " + e.getValue().count() + " failed since "
                        + Instant.ofEpochMilli(e.getValue().firstMillis()) + ", the last at "
                        + Instant.ofEpochMilli(e.getValue().lastMillis()) + " (" + e.getValue().last()
                        + "); dead-lettered, processing goes on")
                .sorted()
                .toList();
    }
}
