package io.keymeter.platform.config;

import io.keymeter.kafka.StartupRefusedException;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.web.AdvertisedAddress;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.streams.StreamsConfig;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.DependsOn;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Settings checked before anything is taken or started (the data directory's lock depends on this): a setting with a
 * default given empty is refused, and every {@link CheckedAtStart} bean of the roles switched on is made.
 */
@Component(StartupChecks.BEAN)
@DependsOn(DurationSettings.BEAN)
public class StartupChecks {

    public static final String BEAN = "startupChecks";

    /**
     * Settings that have a default and no meaning when empty: {@code keymeter.streams.threads=} (a line of a
     * deployment template left blank) started on the default without a word, an empty advertised host ended start-up
     * in a trace. Refused whichever roles run, as a duration without its unit is. (Durations, the currency and
     * {@code body-memory} say so in their own words.)
     */
    static final List<String> NOT_EMPTY = List.of("keymeter.roles", "keymeter.data-dir", "keymeter.embedded-kafka.port",
            AdvertisedAddress.HOST,
            "keymeter.metering.dedupe-filter-capacity", "keymeter.ingest.publish.producers",
            "keymeter.ingest.publish.linger-ms", "keymeter.ingest.publish.batch-bytes",
            "keymeter.ingest.publish.compression", "keymeter.topics.partitions", "keymeter.topics.replication-factor",
            "keymeter.streams.threads", "keymeter.streams.rocksdb-cache", "keymeter.streams.rocksdb-write-buffers",
            "keymeter.streams.static-membership");

    public StartupChecks(Environment environment, ObjectProvider<CheckedAtStart> checkedAtStart,
                         ObjectProvider<KafkaProperties> kafkaProperties) {
        for (String name : NOT_EMPTY) {
            String value = environment.getProperty(name);
            if (value != null && value.isBlank()) {
                throw new StartupRefusedException(name + " is empty.",
                        "Give it a value, or leave it out for its default (README, Configuration).");
            }
        }
        AdvertisedAddress.refuseZone(AdvertisedAddress.HOST, environment.getProperty(AdvertisedAddress.HOST));
        // the operator's own, as Kafka Streams would be given it
        kafkaProperties.ifAvailable(kafka -> AdvertisedAddress.refuseZone(StreamsConfig.APPLICATION_SERVER_CONFIG
                + " (spring.kafka.streams.properties, spring.kafka.properties or " + KafkaClients.CLIENT_PROPERTIES + ")",
                Objects.toString(KafkaClients.applicationServer(kafka,
                        environment.getProperty(KafkaClients.CLIENT_PROPERTIES, "")), null)));
        checkedAtStart.orderedStream().forEach(made -> { }); // each checks its settings as it is made
    }
}
