package io.keymeter.app.support;

import io.keymeter.metering.verify.KeyStateCache;
import io.keymeter.platform.streams.StreamsApp;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.junit.jupiter.SpringExtension;

/**
 * Before a test class runs, waits until every Kafka Streams app of the shared context is RUNNING, and verify's key
 * states are current. Starting them does
 * not block, and on a fresh broker the first class could otherwise send credential commands while the credential
 * store still rebalances, and see them expire (503).
 */
public final class AwaitStreamsRunning implements BeforeAllCallback {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);

    @Override
    public void beforeAll(ExtensionContext context) {
        ready(SpringExtension.getApplicationContext(context));
    }

    /** Waits until every Streams app of {@code spring} is RUNNING and verify's key states are current. */
    public static void ready(ApplicationContext spring) {
        var apps = spring.getBeansOfType(StreamsApp.class).values();
        Awaitility.await("every Streams app RUNNING").atMost(READY_WITHIN).until(() ->
                apps.stream().allMatch(app -> app.state() == KafkaStreams.State.RUNNING));
        // and verify's key states current, where metering runs: until then /v1/verify answers 503
        var caches = spring.getBeansOfType(KeyStateCache.class).values();
        Awaitility.await("the verify cache current").atMost(READY_WITHIN).until(() ->
                caches.stream().allMatch(KeyStateCache::current));
    }
}
