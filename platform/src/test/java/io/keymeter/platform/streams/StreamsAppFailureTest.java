package io.keymeter.platform.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class StreamsAppFailureTest {

    private final StreamsApp app = new StreamsApp("metering", new Topology(), new Properties(), null);
    private final IllegalStateException failure = new IllegalStateException("the sink refused a record");

    @Test
    void aThreadThatKeepsFailingStopsTheApplicationAndSaysWhy() {
        long minute = Duration.ofMinutes(1).toNanos();
        for (int i = 0; i < StreamsApp.MAX_FAILURES - 1; i++) {
            assertThat(app.onThreadFailure(failure, i * minute)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        }
        assertThat(app.stoppedBecause()).isEmpty();

        assertThat(app.onThreadFailure(failure, 5 * minute)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(app.stoppedBecause()).hasValueSatisfying(reason -> assertThat(reason)
                .contains("metering", "failed 5 times within 10 minutes", "the sink refused a record"));
    }

    @Test
    void failuresFarApartEachReplaceTheThread() {
        long apart = StreamsApp.FAILURE_WINDOW.toNanos() / (StreamsApp.MAX_FAILURES - 1) + 1;
        for (int i = 0; i < 3 * StreamsApp.MAX_FAILURES; i++) {
            assertThat(app.onThreadFailure(failure, i * apart)).as("failure %d", i)
                    .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        }
        assertThat(app.stoppedBecause()).isEmpty();
    }
}
