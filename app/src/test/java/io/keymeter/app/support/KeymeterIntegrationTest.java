package io.keymeter.app.support;

import io.keymeter.app.KeymeterApplication;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureTestRestTemplate;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ContextConfiguration;

/**
 * The whole app, every role, on the JVM's shared embedded broker, on a random HTTP port. Every test class with this
 * annotation shares one Spring context (and so one set of Streams applications); tests isolate themselves by
 * account: {@link TestAccounts} lists the configured accounts and tokens. Each class starts once every Streams app
 * runs ({@link AwaitStreamsRunning}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(classes = KeymeterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ContextConfiguration(initializers = SharedKafkaInitializer.class)
@AutoConfigureTestRestTemplate
@ExtendWith(AwaitStreamsRunning.class)
@Timeout(180)
public @interface KeymeterIntegrationTest {
}
