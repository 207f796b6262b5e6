package io.keymeter.billing.ledger;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.events.Statement;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The production billing topology and Streams configuration as a real Kafka Streams application on the shared test
 * broker, for what TopologyTestDriver cannot show (a restart, a transaction still open). Its punctuation runs every
 * {@link #CHECK_INTERVAL}, so statements follow usage within a second.
 */
final class LedgerOnBroker {

    static final Duration CHECK_INTERVAL = Duration.ofMillis(300);

    private LedgerOnBroker() {
    }

    static void createTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            KafkaTopics.createMissing(admin, new KeymeterProperties(null, null, null, null, null, null, null, null, null,
                    null, null));
        }
    }

    /** Starts application {@code keymeter-<name>}: the production overrides, then {@code overrides}. */
    static KafkaStreams start(Path dataDir, String name, PriceCatalog catalog, Map<String, Object> overrides) {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null, null,
                null, null, null);
        Map<String, Object> all = new HashMap<>(BillingTopology.streamsOverrides());
        all.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
        all.putAll(overrides);
        KafkaStreams streams = new KafkaStreams(
                // adjustments at once: these tests restart the ledger, BillingTopologyTest spaces adjustments
                new BillingTopology(catalog, Duration.ofHours(1), Duration.ZERO, CHECK_INTERVAL).build(),
                StreamsFactory.config(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                        SharedKafka.bootstrapServers()), properties, name, all));
        streams.start();
        return streams;
    }

    /** A day of January 2025 (closed long ago on the wall clock: billed at the next punctuation). */
    static void sendJanuaryUsage(String account, String credential, long requests, long units) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, UsageDaily> producer = new KafkaProducer<>(config,
                Topics.USAGE_DAILY.keySerde().serializer(), Topics.USAGE_DAILY.valueSerde().serializer())) {
            UsageDaily day = new UsageDaily(account, credential, "geocoding-stored", LocalDate.parse("2025-01-31"),
                    requests, units);
            producer.send(new ProducerRecord<>(Topics.USAGE_DAILY.name(), day.key(), day)).get();
        }
    }

    /** The account's statements committed on {@code keymeter.billing-statements}. */
    static List<Statement> committedStatements(String account) {
        return TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.BILLING_STATEMENTS).stream()
                .map(ConsumerRecord::value).filter(s -> s != null && s.accountId().equals(account)).toList();
    }
}
