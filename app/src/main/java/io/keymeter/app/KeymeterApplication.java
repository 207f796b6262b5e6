package io.keymeter.app;

import io.keymeter.billing.BillingConfiguration;
import io.keymeter.console.ConsoleConfiguration;
import io.keymeter.credentials.CredentialStoreConfiguration;
import io.keymeter.ingest.IngestConfiguration;
import io.keymeter.metering.MeteringConfiguration;
import io.keymeter.platform.FormatLocale;
import io.keymeter.platform.PlatformConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;

/**
 * Keymeter in one process: the roles named by {@code keymeter.roles} (all by default), on the Kafka cluster of
 * {@code spring.kafka.bootstrap-servers} or, without one, on an embedded broker under {@code keymeter.data-dir}.
 */
@SpringBootApplication
@Import({PlatformConfiguration.class, CredentialStoreConfiguration.class, IngestConfiguration.class,
        MeteringConfiguration.class, BillingConfiguration.class, ConsoleConfiguration.class})
public class KeymeterApplication {

    static {
        // before anything formats, whether started by main or by a test booting this class: ASCII digits, and
        // Kafka Streams' per-record messages at half the cost (FormatLocale)
        FormatLocale.pin();
    }

    public static void main(String[] args) {
        if (args.length > 0 && "ship".equals(args[0])) {
            System.exit(io.keymeter.ingest.shipper.ShipperCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length)));
        }
        application().run(args);
    }

    /**
     * The application the jar runs: with the HTTP port tried before anything starts (the jar only, not the tests'
     * {@code @SpringBootTest} contexts: a mock server or a random port has no port to try).
     */
    static SpringApplication application() {
        SpringApplication application = new SpringApplication(KeymeterApplication.class);
        application.addListeners(new ServerPortCheck());
        return application;
    }
}
