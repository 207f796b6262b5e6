package io.keymeter.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.events.Statement;
import io.keymeter.events.Topics;
import io.keymeter.events.UsageDaily;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.kafka.KafkaTopics;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TopicReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarts and state loss on a real broker: TopologyTestDriver cannot show them, because closing it deletes its
 * state directory. The production topology and configuration (short punctuation interval) run as a real Kafka
 * Streams application; its local state is wiped between runs, so the second run must restore what was issued from
 * the changelogs, as a new owner after a rebalance would.
 */
@Timeout(120)
class BillingRestartTest {

    @TempDir
    Path dataDir;

    private final String account = "restart-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<KafkaStreams> started = new ArrayList<>();

    @BeforeAll
    static void topics() throws Exception {
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()))) {
            KafkaTopics.createMissing(admin, new KeymeterProperties(null, null, null, null, null, null, null, null, null,
                    null, null));
        }
    }

    @AfterEach
    void stop() {
        started.forEach(s -> s.close(Duration.ofSeconds(10)));
    }

    private KafkaStreams start() {
        KeymeterProperties properties = new KeymeterProperties(null, dataDir, null, null, null, null, null, null,
                null, null, null);
        Map<String, Object> overrides = new HashMap<>();
        overrides.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
        Properties config = StreamsFactory.config(
                Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers()), properties,
                "billing-restart-" + account, overrides);
        KafkaStreams streams = new KafkaStreams(
                new BillingTopology(PriceCatalog.defaults("USD"), Duration.ofHours(1), Duration.ofMillis(300)).build(),
                config);
        started.add(streams);
        streams.start();
        return streams;
    }

    private void send(String credential, long requests, long units) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, UsageDaily> producer = new KafkaProducer<>(config,
                Topics.USAGE_DAILY.keySerde().serializer(), Topics.USAGE_DAILY.valueSerde().serializer())) {
            UsageDaily day = new UsageDaily(account, credential, "geocoding-stored", LocalDate.parse("2025-01-31"),
                    requests, units);
            producer.send(new ProducerRecord<>(Topics.USAGE_DAILY.name(), day.key(), day)).get();
        }
    }

    private List<Statement> statementsOfAccount() {
        return TopicReader.readAll(SharedKafka.bootstrapServers(), Topics.BILLING_STATEMENTS).stream()
                .map(ConsumerRecord::value).filter(s -> s.accountId().equals(account)).toList();
    }

    @Test
    void aRestartWithLostLocalStateIssuesNoStatementTwiceAndLaterUsageIsAnAdjustment() throws Exception {
        KafkaStreams first = start();
        send("c1", 10, 1000); // January 2025 closed long ago on the wall clock: billed at the next punctuation

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).extracting(Statement::statementId)
                        .containsExactly(account + "-2025-01-final"));

        assertThat(first.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(20)))).as("closed in time, so its state directory can be wiped").isTrue();
        first.cleanUp(); // the next run must restore the ledger from its changelogs
        start();
        send("c1", 12, 1250);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(statementsOfAccount()).extracting(Statement::statementId)
                        .containsExactlyInAnyOrder(account + "-2025-01-final", account + "-2025-01-adj-1"));
        Statement adjustment = statementsOfAccount().stream().filter(s -> s.kind().equals("adjustment")).findFirst()
                .orElseThrow();
        assertThat(adjustment.kind()).isEqualTo("adjustment");
        assertThat(adjustment.amountDue()).isEqualTo(new BigDecimal("1.00"));
        assertThat(adjustment.lines()).singleElement().satisfies(line -> assertThat(line.units()).isEqualTo(250));
    }
}
