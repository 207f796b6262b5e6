package io.keymeter.platform;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.kafka.EmbeddedKafkaConfiguration;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.security.AccessTokens;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Tells the operator, once started, where the console, the API and the tokens are, and then when health is UP: the
 * topologies are still joining Kafka when Spring Boot is ready, and a banner that said "is up" then was read as
 * ready 5–11 s early (credential changes sent on it waited 25 s for a 503). Never prints a token.
 */
@Component
class StartupReport {

    private static final Logger log = LoggerFactory.getLogger(StartupReport.class);
    static final Duration POLL = Duration.ofSeconds(1);

    private final KeymeterProperties properties;
    private final AccessTokens tokens;
    private final KafkaClients kafka;
    private final ObjectProvider<HealthEndpoint> health;
    private volatile boolean closed;

    StartupReport(KeymeterProperties properties, AccessTokens tokens, KafkaClients kafka,
                  ObjectProvider<HealthEndpoint> health) {
        this.properties = properties;
        this.tokens = tokens;
        this.kafka = kafka;
        this.health = health;
    }

    @EventListener
    void onReady(ApplicationReadyEvent event) {
        int port = event.getApplicationContext() instanceof WebServerApplicationContext web && web.getWebServer() != null
                ? web.getWebServer().getPort() : -1;
        String base = "http://localhost:" + port;
        // the actuator's own port, when management.server.port gives it one (as docker-compose.yml does)
        int managementPort = event.getApplicationContext().getEnvironment()
                .getProperty("local.management.port", Integer.class, port);
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        Set<Role> roles = Role.parse(properties.roles());
        StringBuilder message = new StringBuilder()
                .append("\n\n  Keymeter has started (").append(uptime).append(" ms since JVM start); it takes calls once")
                .append(" health is UP, said below")
                .append("\n  roles:   ").append(roles.stream().map(Role::id).collect(Collectors.joining(", ")))
                .append("\n  kafka:   ").append(kafka.bootstrapServers()).append(embeddedSignIn());
        if (roles.contains(Role.CONSOLE)) { // an instance without it answers / with a 404
            message.append("\n  console: ").append(base).append("/");
        }
        message.append("\n  API:     ").append(base).append("/v1")
                .append("\n  health:  http://localhost:").append(managementPort).append("/actuator/health");
        for (Path file : tokens.generatedTokenFiles()) {
            message.append("\n  token:   ").append(file.toAbsolutePath().normalize());
        }
        log.info(message.append("\n").toString());
        HealthEndpoint endpoint = health.getIfAvailable();
        if (endpoint != null) {
            Thread reporter = new Thread(() -> reportWhenUp(() -> endpoint.health().getStatus()), "keymeter-ready-report");
            reporter.setDaemon(true);
            reporter.start();
        }
    }

    @EventListener
    void onClose(ContextClosedEvent event) {
        closed = true;
    }

    /** Logs once {@code status} is UP; gives up when the application closes first. */
    void reportWhenUp(Supplier<Status> status) {
        try {
            while (!closed) {
                if (Status.UP.equals(status.get())) {
                    log.info("Keymeter is ready: health is UP ({} ms since JVM start)",
                            ManagementFactory.getRuntimeMXBean().getUptime());
                    return;
                }
                Thread.sleep(POLL.toMillis()); // a poll interval, not a wait for a result
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) { // the report is a courtesy: it never fails anything
            log.debug("Readiness report stopped", e);
        }
    }

    /** Where a client of the embedded broker finds its sign-in; nothing for a cluster. */
    private String embeddedSignIn() {
        return kafka.embedded()
                ? " (sign-in: " + properties.dataDir().resolve(EmbeddedKafkaConfiguration.CLIENT_PROPERTIES)
                        .toAbsolutePath().normalize() + ")"
                : "";
    }
}
