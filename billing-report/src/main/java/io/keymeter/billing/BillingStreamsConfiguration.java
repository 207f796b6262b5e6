package io.keymeter.billing;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.RunningPartitions;
import io.keymeter.platform.streams.StartRequirements;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import io.keymeter.platform.web.AdvertisedAddress;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** The billing ledger's Kafka Streams application, {@code keymeter-billing-report}. */
@Configuration(proxyBeanMethods = false)
class BillingStreamsConfiguration {

    /** The name other billing beans inject the application by (other roles have their own {@link StreamsApp}). */
    static final String STREAMS_BEAN = "billingStreams";

    /**
     * The bean name of the ledger's {@link RunningPartitions}: the partitions whose task runs here, restored and
     * initialized, the only ones the reports read.
     */
    static final String RUNNING_PARTITIONS = "billingRunningPartitions";

    @Bean(RUNNING_PARTITIONS)
    RunningPartitions billingRunningPartitions() {
        return new RunningPartitions();
    }

    @Bean(STREAMS_BEAN)
    StreamsApp billingStreams(StreamsFactory factory, PriceCatalog catalog, KeymeterProperties properties,
                              Environment environment, @Qualifier(RUNNING_PARTITIONS) RunningPartitions running) {
        BillingTopology topology = new BillingTopology(catalog, properties.billing().closeGrace(),
                properties.billing().adjustmentInterval(), running);
        // every changelog write of the ledger follows input it consumed (a statement follows the usage that made
        // its cycle pending): committed state without committed offsets means they were lost, and reading from the
        // earliest record would count every rejection kept on the topic again
        return factory.create(BillingTopology.APP_NAME, topology.build(), streamsOverrides(factory, environment),
                new StartRequirements(Map.of(), true));
    }

    /**
     * The ledger's own settings, and this instance's HTTP address unless the operator gave one
     * ({@code application.server} in {@code spring.kafka.streams.properties}, {@code spring.kafka.properties} or the
     * client-properties file): without it a second instance answered the
     * accounts the first one owns from its own partitions, an empty report with 200, as the credential store's
     * reads, which always had it, did not.
     */
    static Map<String, Object> streamsOverrides(StreamsFactory factory, Environment environment) {
        Map<String, Object> overrides = new HashMap<>(BillingTopology.streamsOverrides());
        if (!factory.operatorGaveApplicationServer()) {
            AdvertisedAddress.of(environment).ifPresent(address ->
                    overrides.put(StreamsConfig.APPLICATION_SERVER_CONFIG, address));
        }
        return overrides;
    }
}
