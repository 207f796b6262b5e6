package io.keymeter.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
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
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

/**
 * Open-loop HTTP load ({@link LoadClient}) from one pacing thread: Apache HttpClient 5's async client on one I/O
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
final class OpenLoopLoad implements LoadClient {

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

    @Override
    public Result run(String name, int rate, Duration warmup, Duration measure, IntFunction<Call> request,
                      Predicate<Answer> ok) throws InterruptedException {
        LoadSchedule schedule = new LoadSchedule(rate, warmup, measure);
        CountDownLatch answered = new CountDownLatch(schedule.total);
        long cpuBefore = clientCpuNanos();
        for (int i = 0; i < schedule.total; i++) {
            long scheduled = schedule.awaitTurn(i);
            int index = i;
            SimpleHttpRequest next = toRequest(request.apply(i));
            HttpClientContext context = HttpClientContext.create();
            long sent = System.nanoTime();
            schedule.sent(i, scheduled, sent);
            client.execute(SimpleRequestProducer.create(next), SimpleResponseConsumer.create(), context,
                    new FutureCallback<SimpleHttpResponse>() {
                        @Override
                        public void completed(SimpleHttpResponse answer) {
                            done(ok.test(new Answer(answer.getCode(), answer.getBodyText())));
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
                            Long onConnection = (Long) context.getAttribute(ON_CONNECTION);
                            schedule.answered(index, scheduled, onConnection == null ? sent : onConnection, success);
                            answered.countDown();
                        }
                    });
        }
        if (!answered.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException(name + ": " + answered.getCount() + " requests unanswered after 2 minutes");
        }
        return schedule.result(name, rate, clientCpuNanos() - cpuBefore);
    }

    private static SimpleHttpRequest toRequest(Call call) {
        SimpleRequestBuilder builder = call.json() == null ? SimpleRequestBuilder.get(call.uri())
                : SimpleRequestBuilder.post(call.uri()).setBody(call.json(), ContentType.APPLICATION_JSON);
        if (call.bearer() != null) {
            builder.addHeader("Authorization", "Bearer " + call.bearer());
        }
        return builder.build();
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
