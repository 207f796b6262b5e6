package io.keymeter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keymeter.events.RequestLog;
import io.keymeter.events.Topics;
import io.keymeter.metering.MeteringSerdes;
import io.keymeter.metering.enforcement.ArrivedRequest;
import java.time.Instant;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

/**
 * Reading a {@code keymeter.requests} value: metering's serde ({@code RequestLogReader}, a streaming parser with the
 * topic's serde as its fallback) against the topic's data-binding serde, which the pass-through of
 * {@link MeteringBenchmark} uses, over the same values in the same JVM. {@code -Dbench.rounds=} rounds (default 6);
 * the first ones are the JIT's warm-up.
 */
class RequestReadBenchmark {

    private static final int REQUESTS = 200_000;
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 6);

    private long sink;

    @Test
    void readRequests() {
        byte[][] values = new byte[REQUESTS][];
        Instant first = Instant.parse("2026-11-29T14:00:00.123Z");
        for (int i = 0; i < REQUESTS; i++) {
            // the shape ingest writes: ids, a 64-hex hash, an ISO instant with milliseconds
            RequestLog request = new RequestLog("req-" + i + "-km_abcdefghijklmnop", "km_abcdefghijklmnop" + i % 10_000,
                    "0123456789abcdef".repeat(4), "basemaps", "op", 1 + i % 5, null, null, first.plusMillis(17L * i));
            values[i] = Topics.REQUESTS.valueSerde().serializer().serialize(Topics.REQUESTS.name(), request);
        }
        Deserializer<RequestLog> databind = Topics.REQUESTS.valueSerde().deserializer();
        Deserializer<ArrivedRequest> metering = MeteringSerdes.ARRIVED_REQUEST.deserializer();
        assertThat(metering.deserialize("t", values[1]).log()).isEqualTo(databind.deserialize("t", values[1]));
        for (int round = 1; round <= ROUNDS; round++) {
            long start = System.nanoTime();
            for (byte[] value : values) {
                sink += databind.deserialize("t", value).units();
            }
            long middle = System.nanoTime();
            for (byte[] value : values) {
                sink += metering.deserialize("t", value).log().units();
            }
            long end = System.nanoTime();
            double baseline = (middle - start) / 1e3 / REQUESTS;
            double reader = (end - middle) / 1e3 / REQUESTS;
            Figures.print("request-read.databind.round-" + round, baseline, "us/request");
            Figures.print("request-read.metering.round-" + round, reader, "us/request");
            Figures.ratio("request-read.metering.vs.databind.round-" + round, reader, baseline);
        }
        assertThat(sink).isPositive();
    }
}
