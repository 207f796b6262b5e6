package io.keymeter.platform;

import io.keymeter.platform.config.KeymeterProperties;
import io.keymeter.platform.config.Role;
import io.keymeter.platform.kafka.EmbeddedKafkaConfiguration;
import io.keymeter.platform.kafka.KafkaClients;
import io.keymeter.platform.security.AccessTokens;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Tells the operator, once started, where the console, the API and the tokens are. Never prints a token. */
@Component
class StartupReport {

    private static final Logger log = LoggerFactory.getLogger(StartupReport.class);

    private final KeymeterProperties properties;
    private final AccessTokens tokens;
    private final KafkaClients kafka;

    StartupReport(KeymeterProperties properties, AccessTokens tokens, KafkaClients kafka) {
        this.properties = properties;
        this.tokens = tokens;
        this.kafka = kafka;
    }

    @EventListener
    void onReady(ApplicationReadyEvent event) {
        int port = event.getApplicationContext() instanceof WebServerApplicationContext web && web.getWebServer() != null
                ? web.getWebServer().getPort() : -1;
        String base = "http://localhost:" + port;
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        Set<Role> roles = Role.parse(properties.roles());
        StringBuilder message = new StringBuilder()
                .append("\n\n  Keymeter is up (").append(uptime).append(" ms since JVM start)")
                .append("\n  roles:   ").append(roles.stream().map(Role::id).collect(Collectors.joining(", ")))
                .append("\n  kafka:   ").append(kafka.bootstrapServers()).append(embeddedSignIn());
        if (roles.contains(Role.CONSOLE)) { // an instance without it answers / with a 404
            message.append("\n  console: ").append(base).append("/");
        }
        message.append("\n  API:     ").append(base).append("/v1")
                .append("\n  health:  ").append(base).append("/actuator/health");
        for (Path file : tokens.generatedTokenFiles()) {
            message.append("\n  token:   ").append(file.toAbsolutePath().normalize());
        }
        log.info(message.append("\n").toString());
    }

    /** Where a client of the embedded broker finds its sign-in; nothing for a cluster. */
    private String embeddedSignIn() {
        return kafka.embedded()
                ? " (sign-in: " + properties.dataDir().resolve(EmbeddedKafkaConfiguration.CLIENT_PROPERTIES)
                        .toAbsolutePath().normalize() + ")"
                : "";
    }
}
