package io.keymeter.platform.kafka;

import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/** UP when the Kafka cluster answers a describe-cluster call within two seconds. */
@Component("kafka")
public class KafkaHealthIndicator extends AbstractHealthIndicator implements DisposableBean {

    private final AdminClient admin;
    /** Closed before the client: its scheduled refresh would go on reading a closed client's metrics. */
    private final KafkaClientMetrics metrics;

    public KafkaHealthIndicator(KafkaClients clients, ObjectProvider<MeterRegistry> meterRegistry) {
        var config = clients.admin();
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "keymeter-health");
        this.admin = AdminClient.create(config);
        MeterRegistry registry = meterRegistry.getIfAvailable();
        this.metrics = registry == null ? null : new KafkaClientMetrics(admin);
        if (metrics != null) {
            metrics.bindTo(registry);
        }
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        var cluster = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000));
        int nodes = cluster.nodes().get(2, TimeUnit.SECONDS).size();
        builder.up().withDetail("clusterId", cluster.clusterId().get(2, TimeUnit.SECONDS)).withDetail("nodes", nodes);
    }

    @Override
    public void destroy() {
        if (metrics != null) {
            metrics.close();
        }
        admin.close();
    }
}
