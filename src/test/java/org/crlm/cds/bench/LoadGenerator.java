package org.crlm.cds.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load generator on loopback: N threads each send a request, wait for the
 * answer, and send the next. Latencies go into an HdrHistogram; only the measured window is
 * kept (the warm-up before it is discarded). Every response must be 200.
 */
public final class LoadGenerator {

    /** What one phase measured. */
    public record Result(String name, int concurrency, long requests, long errors, double seconds, Histogram latency) {
        public double throughput() {
            return requests / seconds;
        }

        public double millis(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1_000_000.0;
        }

        public double maxMillis() {
            return latency.getMaxValue() / 1_000_000.0;
        }
    }

    /** A request to send: the body and a bearer token (one per call: the server refuses a replayed JWT). */
    public record Call(String url, String body, String token) {
    }

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    public Result run(String name, int concurrency, Duration warmUp, Duration measure, Supplier<Call> calls) throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        AtomicLong requests = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    Call call = calls.get();
                    HttpRequest request = HttpRequest.newBuilder(URI.create(call.url()))
                            .timeout(Duration.ofSeconds(60))
                            .header("Content-Type", "application/json")
                            .header("Authorization", "Bearer " + call.token())
                            .POST(HttpRequest.BodyPublishers.ofString(call.body())).build();
                    long started = System.nanoTime();
                    int status;
                    try {
                        HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        status = response.statusCode();
                        if (status != 200 && failures.size() < 3) {
                            failures.add(status + " " + new String(response.body()));
                        }
                    } catch (Exception e) {
                        status = -1;
                        if (failures.size() < 3) {
                            failures.add(e.toString());
                        }
                    }
                    long elapsed = System.nanoTime() - started;
                    if (measuring.get()) {
                        recorder.recordValue(Math.min(elapsed, 60_000_000_000L));
                        requests.incrementAndGet();
                        if (status != 200) {
                            errors.incrementAndGet();
                        }
                    }
                }
            }, "load-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Thread.sleep(warmUp.toMillis());
        recorder.reset();
        measuring.set(true);
        long started = System.nanoTime();
        Thread.sleep(measure.toMillis());
        measuring.set(false);
        double seconds = (System.nanoTime() - started) / 1e9;
        Histogram histogram = recorder.getIntervalHistogram();
        stop.set(true);
        for (Thread t : threads) {
            t.join(70_000);
        }
        if (!failures.isEmpty()) {
            System.out.println("  " + name + ": failed responses, e.g. " + failures.peek().substring(0, Math.min(300, failures.peek().length())));
        }
        return new Result(name, concurrency, requests.get(), errors.get(), seconds, histogram);
    }

    /** One timed call (first call after ready). */
    public double once(Call call) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(call.url())).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + call.token())
                .POST(HttpRequest.BodyPublishers.ofString(call.body())).build();
        long started = System.nanoTime();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        double ms = (System.nanoTime() - started) / 1e6;
        if (response.statusCode() != 200) {
            throw new IllegalStateException("First call answered " + response.statusCode() + ": " + response.body());
        }
        return ms;
    }
}
