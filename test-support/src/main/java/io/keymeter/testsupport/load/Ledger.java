package io.keymeter.testsupport.load;

import io.keymeter.events.Rejection;
import io.keymeter.events.Topics;
import io.keymeter.testsupport.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.keymeter.events.RejectionReason;
import io.keymeter.events.UsageDaily;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * What must be billed and what must be refused, and why, for every request the generator made: the ground truth a
 * run's outputs are checked against.
 */
public final class Ledger {

    private final Map<String, long[]> usage = new TreeMap<>();
    private final Map<RejectionReason, Long> rejections = new EnumMap<>(RejectionReason.class);
    private final Map<String, RejectionReason> rejectedRequests = new HashMap<>();
    private long acceptedRequests;

    void accept(String accountId, String credentialId, String service, java.time.Instant at, long units) {
        LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
        long[] totals = usage.computeIfAbsent(UsageDaily.key(accountId, credentialId, service, day), k -> new long[2]);
        totals[0]++;
        totals[1] += units;
        acceptedRequests++;
    }

    void reject(String requestId, RejectionReason reason) {
        rejections.merge(reason, 1L, Long::sum);
        rejectedRequests.put(requestId, reason);
    }

    public long acceptedRequests() {
        return acceptedRequests;
    }

    public Map<RejectionReason, Long> rejectionsByReason() {
        return Map.copyOf(rejections);
    }

    /** usage key → {requests, units}. */
    public Map<String, long[]> usage() {
        return usage;
    }

    /**
     * Differences between the ledger and what is committed on {@code keymeter.usage-daily} (the latest value per key)
     * and {@code keymeter.rejections} of this cluster, at most {@code limit} of them.
     */
    public List<String> differencesOn(String bootstrapServers, int limit) {
        List<String> all = differences(latestUsage(bootstrapServers), TopicReader.readAll(bootstrapServers,
                Topics.REJECTIONS).stream().map(ConsumerRecord::value).toList());
        return all.subList(0, Math.min(limit, all.size()));
    }

    /** The latest committed daily totals per usage key. */
    public static Map<String, UsageDaily> latestUsage(String bootstrapServers) {
        Map<String, UsageDaily> latest = new HashMap<>();
        for (ConsumerRecord<String, UsageDaily> r : TopicReader.readAll(bootstrapServers, Topics.USAGE_DAILY)) {
            latest.put(r.key(), r.value());
        }
        return latest;
    }

    /**
     * Differences between the ledger and a run's outputs: the latest {@code keymeter.usage-daily} value per key and
     * every record on {@code keymeter.rejections}. Empty when the run billed exactly right.
     */
    public List<String> differences(Map<String, UsageDaily> latestUsage, Collection<Rejection> rejectionRecords) {
        List<String> out = new ArrayList<>();
        Set<String> keys = new HashSet<>(usage.keySet());
        keys.addAll(latestUsage.keySet());
        for (String key : new java.util.TreeSet<>(keys)) {
            long[] expected = usage.getOrDefault(key, new long[2]);
            UsageDaily actual = latestUsage.get(key);
            long requests = actual == null ? 0 : actual.requests();
            long units = actual == null ? 0 : actual.units();
            if (expected[0] != requests || expected[1] != units) {
                out.add(key + ": expected " + expected[0] + " requests / " + expected[1] + " units, got " + requests
                        + " / " + units);
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        Map<RejectionReason, Long> counted = new EnumMap<>(RejectionReason.class);
        for (Rejection r : rejectionRecords) {
            seen.merge(r.requestId(), 1, Integer::sum);
            counted.merge(r.reason(), 1L, Long::sum);
            RejectionReason expected = rejectedRequests.get(r.requestId());
            if (!Objects.equals(expected, r.reason())) {
                out.add("request " + r.requestId() + " rejected as " + r.reason().code() + ", expected "
                        + (expected == null ? "accepted" : expected.code()));
            }
        }
        seen.forEach((id, n) -> {
            if (n > 1) {
                out.add("request " + id + " rejected " + n + " times");
            }
        });
        List<String> missing = rejectedRequests.keySet().stream().filter(id -> !seen.containsKey(id)).sorted().toList();
        if (!missing.isEmpty()) {
            out.add(missing.size() + " rejections missing, first " + missing.subList(0, Math.min(20, missing.size())));
        }
        for (RejectionReason reason : RejectionReason.values()) {
            long expected = rejections.getOrDefault(reason, 0L);
            long actual = counted.getOrDefault(reason, 0L);
            if (expected != actual) {
                out.add("rejections " + reason.code() + ": expected " + expected + ", got " + actual);
            }
        }
        return out;
    }
}
