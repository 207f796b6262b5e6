package io.keymeter.platform.web;

import io.keymeter.kafka.StartupRefusedException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.springframework.core.env.Environment;

/**
 * Where this instance answers HTTP, as other instances reach it: Kafka Streams' {@code application.server} of the
 * topologies whose reads are forwarded to the instance that owns the data (credentials, billing reports).
 */
public final class AdvertisedAddress {

    /** Host other instances forward reads to; default: this machine's host name. */
    public static final String HOST = "keymeter.credentials.advertised-host";

    private AdvertisedAddress() {
    }

    /**
     * {@code host:port} of this instance, or empty with a random port ({@code server.port=0}, tests): the port is
     * not known when Kafka Streams is configured, and reads then stay local.
     */
    public static Optional<String> of(Environment environment) {
        int port = environment.getProperty("server.port", Integer.class, 8080);
        if (port <= 0) {
            return Optional.empty();
        }
        return Optional.of(uriHost(environment.getProperty(HOST, localHostName())) + ":" + port);
    }

    /**
     * Refuses an address with an IPv6 zone ({@code fe80::1%eth0}): Kafka takes it, a URL cannot carry it, and other
     * instances reach no address local to one of this host's links: every read forwarded to this instance failed.
     */
    public static void refuseZone(String setting, String address) {
        if (address != null && address.indexOf('%') >= 0) {
            throw new StartupRefusedException(setting + " " + address + " names an IPv6 zone (%): other instances"
                    + " reach no address that is local to one of this host's links.",
                    "Give a name or an address they reach (README, Configuration).");
        }
    }

    /**
     * A host as a URI writes it: an IPv6 address in brackets. Kafka gives an owner's host without them (from
     * {@code [fd00::5]:8080} as from {@code fd00::5:8080}), and a URI built from it bare had no host: every read
     * forwarded to an instance advertised by its IPv6 address failed.
     */
    public static String uriHost(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
