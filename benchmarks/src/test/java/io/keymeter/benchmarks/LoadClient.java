package io.keymeter.benchmarks;

import java.net.URI;
import java.time.Duration;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;

/**
 * An open-loop HTTP load client: request i leaves at {@code start + i / rate} whatever the earlier answers took, and
 * its response time counts from that scheduled moment (no coordinated omission). Two implementations, chosen with
 * {@code -Dverify.load=}: {@link OpenLoopLoad} (one pacing thread handing requests to an async client's I/O thread)
 * and {@link BlockingOpenLoopLoad} (one thread per connection, each pacing its own share of the schedule).
 */
interface LoadClient extends AutoCloseable {

    /** One request: a GET when {@code json} is null, else a POST of it; {@code bearer} may be null. */
    record Call(URI uri, String bearer, String json) {

        static Call get(URI uri) {
            return new Call(uri, null, null);
        }
    }

    /** What came back. */
    record Answer(int code, String body) {
    }

    /** What one run measured; only the requests after the warm-up are in the histograms and the rate. */
    record Result(String name, int rate, long measured, long failed, double achievedRate, Histogram responseTime,
                  Histogram serviceTime, Histogram sendLag, double clientCpuMicrosPerRequest, long gcMillis) {

        void print() {
            Figures.print(name + ".rate.target", rate, "requests/s");
            Figures.print(name + ".rate.achieved", achievedRate, "requests/s");
            Figures.print(name + ".requests", measured, "requests");
            Figures.latency(name + ".response-time (from schedule)", responseTime);
            Figures.print(name + ".response-time <= 2 ms", responseTime.getPercentileAtOrBelowValue(2_000_000), "%");
            Figures.latency(name + ".service-time", serviceTime);
            Figures.print(name + ".send-lag.p99", sendLag.getValueAtPercentile(99) / 1e6, "ms");
            Figures.print(name + ".send-lag.max", sendLag.getMaxValue() / 1e6, "ms");
            Figures.print(name + ".client-cpu per request", clientCpuMicrosPerRequest, "us");
            Figures.print(name + ".gc time in this JVM during the run", gcMillis, "ms");
        }
    }

    /**
     * Sends {@code rate} requests a second for {@code warmup + measure}; {@code request} builds request i,
     * {@code ok} says whether an answer is the expected one (anything else, or an error, counts as failed).
     */
    Result run(String name, int rate, Duration warmup, Duration measure, IntFunction<Call> request,
               Predicate<Answer> ok) throws InterruptedException;
}
