package io.keymeter.app;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * Tries the HTTP port before anything starts: a port in use was found by Jetty only after the embedded broker, the
 * topics and every topology had started, some 40 s in, for the same report ("Port 8080 was already in use"). Jetty
 * may still find it taken (a race), and is then reported the same way.
 */
class ServerPortCheck implements ApplicationListener<ApplicationEnvironmentPreparedEvent> {

    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        refuseIfTaken(event.getEnvironment());
    }

    static void refuseIfTaken(Environment environment) {
        Integer port = environment.getProperty("server.port", Integer.class, 8080);
        if (port == null || port <= 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            String address = environment.getProperty("server.address");
            probe.bind(address == null || address.isBlank() ? new InetSocketAddress(port)
                    : new InetSocketAddress(InetAddress.getByName(address.strip()), port));
        } catch (IOException e) {
            throw new PortInUseException(port, e);
        }
    }
}
