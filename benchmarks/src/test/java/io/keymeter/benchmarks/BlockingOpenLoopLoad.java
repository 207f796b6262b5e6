package io.keymeter.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Open-loop HTTP load ({@link LoadClient}) with one thread per connection: thread t sends requests t, t + n,
 * t + 2n, … of the schedule (n threads), each at its scheduled moment, over Apache HttpClient 5's classic (blocking)
 * client, and waits for each answer before its next request. No hand-off between threads on the way out or back: the
 * thread that paces a request writes it and reads its answer. An answer slower than n intervals makes that thread's
 * next request late, and the lateness counts, since response time runs from the schedule.
 * <ul>
 *   <li>response time: from the scheduled send time to the complete answer;</li>
 *   <li>service time: from the moment the thread sent the request to the complete answer;</li>
 *   <li>send lag: how late the thread woke for its scheduled moment, or was still busy with its previous request.</li>
 * </ul>
 * Plus the CPU time of the client's threads per request.
 */
final class BlockingOpenLoopLoad implements LoadClient {

    private static final String THREAD_PREFIX = "blocking-load-";

    private final int connections;
    private final CloseableHttpClient client;

    BlockingOpenLoopLoad(int connections) {
        this.connections = connections;
        Timeout timeout = Timeout.ofSeconds(60);
        client = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setMaxConnTotal(connections).setMaxConnPerRoute(connections)
                        .setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).setSoTimeout(timeout).build())
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(timeout)
                                .setSocketTimeout(timeout).build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setConnectionRequestTimeout(timeout)
                        .setResponseTimeout(timeout).build())
                .disableAutomaticRetries().disableRedirectHandling().disableCookieManagement()
                .build();
    }

    @Override
    public Result run(String name, int rate, Duration warmup, Duration measure, IntFunction<Call> request,
                      Predicate<Answer> ok) throws InterruptedException {
        LoadSchedule schedule = new LoadSchedule(rate, warmup, measure);
        AtomicReference<Throwable> broken = new AtomicReference<>();
        AtomicLong cpu = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < connections; t++) {
            int offset = t;
            Thread thread = new Thread(() -> {
                long cpuStart = threadCpuNanos();
                for (int i = offset; i < schedule.total; i += connections) {
                    long scheduled = schedule.awaitTurn(i);
                    Call call = request.apply(i);
                    long sent = System.nanoTime();
                    schedule.sent(i, scheduled, sent);
                    schedule.answered(i, scheduled, sent, send(call, ok));
                }
                cpu.addAndGet(threadCpuNanos() - cpuStart);
            }, THREAD_PREFIX + t);
            thread.setUncaughtExceptionHandler((th, e) -> broken.set(e));
            threads.add(thread);
            thread.start();
        }
        long deadline = System.nanoTime() + measure.plus(warmup).plusMinutes(2).toNanos();
        for (Thread thread : threads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (thread.isAlive()) {
                throw new IllegalStateException(name + ": " + thread.getName() + " still sending 2 minutes after the end");
            }
        }
        if (broken.get() != null) {
            throw new IllegalStateException(name + ": a load thread failed", broken.get());
        }
        return schedule.result(name, rate, cpu.get());
    }

    /** Sends one call and reads its whole answer; false on an unexpected answer or an I/O error. */
    private boolean send(Call call, Predicate<Answer> ok) {
        try {
            return client.execute(toRequest(call),
                    answer -> ok.test(new Answer(answer.getCode(),
                            answer.getEntity() == null ? "" : EntityUtils.toString(answer.getEntity()))));
        } catch (IOException e) {
            return false;
        }
    }

    private static ClassicHttpRequest toRequest(Call call) {
        ClassicRequestBuilder builder = call.json() == null ? ClassicRequestBuilder.get(call.uri())
                : ClassicRequestBuilder.post(call.uri()).setEntity(call.json(), ContentType.APPLICATION_JSON);
        if (call.bearer() != null) {
            builder.addHeader("Authorization", "Bearer " + call.bearer());
        }
        return builder.build();
    }

    private static long threadCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return Math.max(0, threads.getCurrentThreadCpuTime());
    }

    @Override
    public void close() {
        client.close(CloseMode.GRACEFUL);
    }
}
