package io.keymeter.billing;

import io.keymeter.billing.catalog.PriceCatalog;
import io.keymeter.billing.ledger.BillingTopology;
import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.streams.StartRequirements;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.platform.streams.StreamsFactory;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The billing ledger's Kafka Streams application, {@code keymeter-billing-report}. */
@Configuration(proxyBeanMethods = false)
class BillingStreamsConfiguration {

    /** The name other billing beans inject the application by (other roles have their own {@link StreamsApp}). */
    static final String STREAMS_BEAN = "billingStreams";

    @Bean(STREAMS_BEAN)
    StreamsApp billingStreams(StreamsFactory factory, PriceCatalog catalog, KeymeterProperties properties) {
        BillingTopology topology = new BillingTopology(catalog, properties.billing().closeGrace());
        // every changelog write of the ledger follows input it consumed (a statement follows the usage that made
        // its cycle pending): committed state without committed offsets means they were lost, and reading from the
        // earliest record would count every rejection kept on the topic again
        return factory.create(BillingTopology.APP_NAME, topology.build(), BillingTopology.streamsOverrides(),
                new StartRequirements(Map.of(), true));
    }
}
