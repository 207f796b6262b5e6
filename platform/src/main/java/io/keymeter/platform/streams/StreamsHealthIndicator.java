package io.keymeter.platform.streams;

import java.util.List;
import org.apache.kafka.streams.KafkaStreams;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * UP only while every Kafka Streams application of the enabled roles is RUNNING; says why one was shut down, and
 * which of its punctuations failed within the last 10 minutes.
 */
@Component("streams")
public class StreamsHealthIndicator extends AbstractHealthIndicator {

    private final List<StreamsApp> apps;

    public StreamsHealthIndicator(List<StreamsApp> apps) {
        this.apps = apps;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        boolean allRunning = true;
        for (StreamsApp app : apps) {
            KafkaStreams.State state = app.state();
            builder.withDetail(app.name(), state.name());
            app.stoppedBecause().ifPresent(reason -> builder.withDetail(app.name() + "StoppedBecause", reason));
            List<String> failing = app.failingPunctuations();
            if (!failing.isEmpty()) { // shown, not DOWN: each failure is dead-lettered and processing goes on
                builder.withDetail(app.name() + "FailingPunctuations", failing);
            }
            allRunning &= state == KafkaStreams.State.RUNNING;
        }
        if (allRunning) {
            builder.up();
        } else {
            builder.down();
        }
    }
}
