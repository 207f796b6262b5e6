package io.keymeter.app.support;

import io.keymeter.app.KeymeterApplication;
import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.kafka.EmbeddedKafkaBroker;
import io.keymeter.platform.streams.StreamsApp;
import io.keymeter.testsupport.TempDirs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A broker of its own, and Keymeter started on it one instance at a time, for tests that change what the shared
 * broker's other users rely on: partition counts, topic configs, consumer groups, broker settings.
 */
public final class OwnKafka implements AutoCloseable {

    private final Path dir;
    private final EmbeddedKafkaBroker broker;
    private final Admin admin;
    private ConfigurableApplicationContext keymeter;

    private OwnKafka(Path dir) {
        this.dir = dir;
        this.broker = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0).start();
        this.admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    /** A broker logging under a new temporary directory named after {@code prefix}. */
    public static OwnKafka start(String prefix) {
        return new OwnKafka(TempDirs.create(prefix));
    }

    public Path dir() {
        return dir;
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public Admin admin() {
        return admin;
    }

    /** Stops the Keymeter started before, if any, and starts one on this broker with {@code args} (port: any). */
    public ConfigurableApplicationContext startKeymeter(String... args) {
        stopKeymeter();
        List<String> all = new ArrayList<>(List.of("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + broker.bootstrapServers()));
        all.addAll(List.of(args));
        keymeter = new SpringApplication(KeymeterApplication.class).run(all.toArray(String[]::new));
        return keymeter;
    }

    /**
     * Starts Keymeter with the credential-store and metering roles, account {@code accountId} with
     * {@code accountToken}, gateway token {@code gatewayToken} and {@code more} settings, data under {@link #dir()};
     * returns once every topology is RUNNING and verify current (a command sent while the credential store still
     * joins its group can expire, 503: on a loaded machine the first create did, CI, session 55), with a client
     * for it whose calls are bounded at 30 s.
     */
    public AppHttp startCredentialsAndMetering(String accountId, String accountToken, String gatewayToken,
                                               String... more) {
        List<String> args = new ArrayList<>(List.of("--keymeter.roles=credential-store,metering",
                "--keymeter.data-dir=" + dir,
                "--keymeter.gateway-tokens[0]=" + gatewayToken,
                "--keymeter.accounts[0].id=" + accountId,
                "--keymeter.accounts[0].token=" + accountToken));
        args.addAll(List.of(more));
        ConfigurableApplicationContext app = startKeymeter(args.toArray(String[]::new));
        AwaitStreamsRunning.ready(app);
        return new AppHttp(app, Duration.ofSeconds(30));
    }

    public void stopKeymeter() {
        if (keymeter != null) {
            keymeter.close();
            keymeter = null;
        }
    }

    /** The running Keymeter's bean of {@code type}. */
    public <T> T bean(Class<T> type) {
        return keymeter.getBean(type);
    }

    /** Topology {@code name} of the running Keymeter. */
    public StreamsApp streams(String name) {
        return keymeter.getBeansOfType(StreamsApp.class).values().stream().filter(s -> s.name().equals(name))
                .findFirst().orElseThrow();
    }

    /** Sends requests to {@code keymeter.requests} as a gateway would: keyed by keyId, stamped with their time. */
    public void sendRequests(RequestLog... requests) throws ExecutionException, InterruptedException {
        try (KafkaProducer<String, RequestLog> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                Topics.REQUESTS.keySerde().serializer(), Topics.REQUESTS.valueSerde().serializer())) {
            for (RequestLog request : requests) {
                producer.send(new ProducerRecord<>(Topics.REQUESTS.name(), null, request.timestamp().toEpochMilli(),
                        request.keyId(), request)).get();
            }
        }
    }

    @Override
    public void close() {
        stopKeymeter();
        admin.close();
        broker.stop();
    }
}
