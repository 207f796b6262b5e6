package io.keymeter.app.support;

import io.keymeter.testsupport.SharedKafka;
import io.keymeter.testsupport.TempDirs;
import java.util.HashMap;
import java.util.Map;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/** Points the app at the shared test broker, a fresh data dir, and the accounts of {@link TestAccounts}. */
public class SharedKafkaInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        Map<String, Object> props = new HashMap<>();
        props.put("spring.kafka.bootstrap-servers", SharedKafka.bootstrapServers());
        props.put("keymeter.data-dir", TempDirs.create("keymeter-it").toString());
        int i = 0;
        for (Map.Entry<String, String> account : TestAccounts.ALL.entrySet()) {
            props.put("keymeter.accounts[" + i + "].id", account.getKey());
            props.put("keymeter.accounts[" + i + "].token", account.getValue());
            i++;
        }
        props.put("keymeter.gateway-tokens[0]", TestAccounts.GATEWAY_TOKEN);
        // adjustments as soon as late usage is read: these tests check what is billed, not how adjustments are
        // spaced (BillingTopologyTest does, with the default hour)
        props.put("keymeter.billing.adjustment-interval", "PT0S");
        context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("keymeter-test", props));
    }
}
