package io.keymeter.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.app.support.KeymeterIntegrationTest;
import io.keymeter.metering.verify.KeyStateCache;
import io.keymeter.platform.streams.StreamsApp;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;

/**
 * On shutdown Spring stops lifecycles from the highest phase down. The Kafka Streams applications and the verify
 * cache must stop after the web server's graceful drain (the calls in flight need them to be answered) and before
 * the server itself stops. Their phase used to be above the drain: every topology closed first while the server
 * still took calls, and a credential change taken then waited 25 s for a reply nothing could send.
 */
@KeymeterIntegrationTest
class ShutdownOrderTest {

    @Autowired
    ApplicationContext context;

    @Test
    void topologiesAndTheVerifyCacheStopAfterTheDrainAndBeforeTheServer() {
        int drain = context.getBean("webServerGracefulShutdown", SmartLifecycle.class).getPhase();
        int server = context.getBean("webServerStartStop", SmartLifecycle.class).getPhase();
        Map<String, StreamsApp> topologies = context.getBeansOfType(StreamsApp.class);
        assertThat(topologies).hasSize(3);
        topologies.forEach((name, app) -> assertThat(app.getPhase()).as(name).isLessThan(drain).isGreaterThan(server));
        assertThat(context.getBean(KeyStateCache.class).getPhase()).isLessThan(drain).isGreaterThan(server);
    }
}
