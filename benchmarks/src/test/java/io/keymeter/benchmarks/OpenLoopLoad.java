package io.keymeter.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestProducer;
import org.apache.hc.client5.http.async.methods.SimpleResponseConsumer;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

/**
 * Open-loop HTTP load: request i leaves at {@code start + i / rate} whatever the earlier answers took, so a slow
 * answer cannot hold back the next requests (no coordinated omission). Apache HttpClient 5's async client on one I/O
 * thread over a fixed pool of HTTP/1.1 connections; a request finding every connection busy waits in the pool, and
 * that wait counts. Per request, in HdrHistograms (ns):
 * <ul>
 *   <li>response time: from the scheduled send time to the complete answer (what a caller at that rate sees);</li>
 *   <li>service time: from the moment the request goes onto a connection (after any wait for a free one) to the
 *   complete answer: what the server and the network took;</li>
 *   <li>send lag: how late the pacing thread handed it to the client (a starved or overloaded client shows here).</li>
 * </ul>
 * Plus the CPU time of the client's own threads (pacing and I/O) per request.
 */
final class OpenLoopLoad implements AutoCloseable {

    private static final long HIGHEST = TimeUnit.MINUTES.toNanos(5);
    private static final String ON_CONNECTION = "bench.on-connection";

    private final CloseableHttpAsyncClient client;

    OpenLoopLoad(int connections) {
        Timeout timeout = Timeout.ofSeconds(60);
        client = HttpAsyncClients.custom()
                .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
                        .setMaxConnTotal(connections).setMaxConnPerRoute(connections)
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(timeout)
                                .setSocketTimeout(timeout).build())
                        .build())
                .setIOReactorConfig(IOReactorConfig.custom().setIoThreadCount(1).setTcpNoDelay(true).build())
                .setDefaultRequestConfig(RequestConfig.custom().setConnectionRequestTimeout(timeout)
                        .setResponseTimeout(timeout).build())
                // just before the transport, after the connection lease: the moment the request goes out
                .addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "bench-on-connection",
                        (request, entity, scope, chain, callback) -> {
                            scope.clientContext.setAttribute(ON_CONNECTION, System.nanoTime());
                            chain.proceed(request, entity, scope, callback);
                        })
                .disableAutomaticRetries().disableRedirectHandling().disableCookieManagement()
                .build();
        client.start();
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
    Result run(String name, int rate, Duration warmup, Duration measure, IntFunction<SimpleHttpRequest> request,
               Predicate<SimpleHttpResponse> ok) throws InterruptedException {
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        int first = (int) (warmup.toNanos() / interval);
        int total = first + (int) (measure.toNanos() / interval);
        Histogram response = new ConcurrentHistogram(HIGHEST, 3);
        Histogram service = new ConcurrentHistogram(HIGHEST, 3);
        Histogram lag = new ConcurrentHistogram(HIGHEST, 3);
        AtomicLong failed = new AtomicLong();
        AtomicLong lastAnswer = new AtomicLong();
        CountDownLatch answered = new CountDownLatch(total);
        long cpuBefore = clientCpuNanos();
        long gcBefore = gcMillis();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        for (int i = 0; i < total; i++) {
            long scheduled = start + i * interval;
            long wait;
            while ((wait = scheduled - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            boolean measured = i >= first;
            SimpleHttpRequest next = request.apply(i);
            HttpClientContext context = HttpClientContext.create();
            long sent = System.nanoTime();
            if (measured) {
                lag.recordValue(Math.min(HIGHEST, sent - scheduled));
            }
            client.execute(SimpleRequestProducer.create(next), SimpleResponseConsumer.create(), context,
                    new FutureCallback<SimpleHttpResponse>() {
                        @Override
                        public void completed(SimpleHttpResponse answer) {
                            done(ok.test(answer));
                        }

                        @Override
                        public void failed(Exception e) {
                            done(false);
                        }

                        @Override
                        public void cancelled() {
                            done(false);
                        }

                        private void done(boolean success) {
                            long now = System.nanoTime();
                            if (measured) {
                                Long onConnection = (Long) context.getAttribute(ON_CONNECTION);
                                response.recordValue(Math.min(HIGHEST, now - scheduled));
                                service.recordValue(Math.min(HIGHEST, now - (onConnection == null ? sent : onConnection)));
                                lastAnswer.accumulateAndGet(now, Math::max);
                                if (!success) {
                                    failed.incrementAndGet();
                                }
                            }
                            answered.countDown();
                        }
                    });
        }
        if (!answered.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException(name + ": " + answered.getCount() + " requests unanswered after 2 minutes");
        }
        double cpuPerRequest = (clientCpuNanos() - cpuBefore) / 1e3 / total;
        long measured = total - first;
        double seconds = (lastAnswer.get() - (start + first * interval)) / 1e9;
        return new Result(name, rate, measured, failed.get(), measured / seconds, response, service, lag,
                cpuPerRequest, gcMillis() - gcBefore);
    }

    /** Collection time of every collector of this JVM so far (pauses included), in ms. */
    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(gc -> Math.max(0, gc.getCollectionTime())).sum();
    }

    /** CPU time of this (the pacing) thread and of the client's I/O threads. */
    private static long clientCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = threads.getCurrentThreadCpuTime();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("httpclient-")) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getId()));
            }
        }
        return sum;
    }

    @Override
    public void close() throws IOException {
        client.close(CloseMode.GRACEFUL);
    }
}
