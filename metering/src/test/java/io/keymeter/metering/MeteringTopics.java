package io.keymeter.metering;

import io.keymeter.events.ApiKeyState;
import io.keymeter.events.Rejection;
import io.keymeter.events.RequestLog;
import io.keymeter.events.SecurityAlert;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** The metering topology's topics in a TopologyTestDriver, with the serdes of the topic registry. */
final class MeteringTopics {

    final TestInputTopic<String, RequestLog> requests;
    final TestInputTopic<String, ApiKeyState> keys;
    final TestOutputTopic<String, UsageDaily> usage;
    final TestOutputTopic<String, Rejection> rejections;
    final TestOutputTopic<String, SecurityAlert> alerts;
    final TestOutputTopic<byte[], byte[]> deadLetters;

    MeteringTopics(TopologyTestDriver driver) {
        requests = driver.createInputTopic(Topics.REQUESTS.name(), Topics.REQUESTS.keySerde().serializer(),
                Topics.REQUESTS.valueSerde().serializer());
        keys = driver.createInputTopic(Topics.API_KEYS.name(), Topics.API_KEYS.keySerde().serializer(),
                Topics.API_KEYS.valueSerde().serializer());
        usage = driver.createOutputTopic(Topics.USAGE_DAILY.name(), Topics.USAGE_DAILY.keySerde().deserializer(),
                Topics.USAGE_DAILY.valueSerde().deserializer());
        rejections = driver.createOutputTopic(Topics.REJECTIONS.name(), Topics.REJECTIONS.keySerde().deserializer(),
                Topics.REJECTIONS.valueSerde().deserializer());
        alerts = driver.createOutputTopic(Topics.SECURITY_ALERTS.name(),
                Topics.SECURITY_ALERTS.keySerde().deserializer(), Topics.SECURITY_ALERTS.valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    /** Why each record sent to the dead-letter topic since the last read failed: its exception's message. */
    List<String> deadLetterReasons() {
        return deadLetters.readRecordsToList().stream()
                .map(dead -> new String(dead.headers().lastHeader("__streams.errors.message").value(),
                        StandardCharsets.UTF_8))
                .toList();
    }

    /** The latest total of every usage key published since the last read. */
    Map<String, UsageDaily> latestUsage() {
        Map<String, UsageDaily> latest = new LinkedHashMap<>();
        usage.readKeyValuesToList().forEach(kv -> latest.put(kv.key, kv.value));
        return latest;
    }

    /** Kafka Streams' {@code dropped-records-total}, summed over the driver's tasks. */
    static double droppedRecords(TopologyTestDriver driver) {
        return droppedRecords(driver.metrics());
    }

    /** Kafka Streams' {@code dropped-records-total} in {@code metrics} (a driver's or an application's), summed. */
    static double droppedRecords(Map<MetricName, ? extends Metric> metrics) {
        return metrics.entrySet().stream()
                .filter(e -> e.getKey().name().equals("dropped-records-total"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
    }
}
