package org.crlm.cds.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load generator on loopback: N threads each send a request, wait for the
 * answer, and send the next. Latencies go into an HdrHistogram; only the measured window is
 * kept (the warm-up before it is discarded). Every response must be 200.
 *
 * <p>Each thread speaks plain HTTP/1.1 over one kept-alive socket, like {@code ab} or
 * {@code wrk}: on a 2-core machine the generator shares the CPU with the server, and
 * {@code java.net.http.HttpClient} cost about a fifth of the server's throughput in our runs.
 */
public final class LoadGenerator {

    /** Throughput and latency percentiles of a phase, closed or open loop. */
    public interface Measured {
        long requests();

        double seconds();

        Histogram latency();

        default double throughput() {
            return requests() / seconds();
        }

        default double millis(double percentile) {
            return latency().getValueAtPercentile(percentile) / 1_000_000.0;
        }

        default double maxMillis() {
            return latency().getMaxValue() / 1_000_000.0;
        }
    }

    /** What one phase measured. */
    public record Result(
            String name,
            int concurrency,
            long requests,
            long errors,
            double seconds,
            Histogram latency,
            long serverCpuNanos)
            implements Measured {

        /**
         * The server process's CPU time (all its threads: requests, GC, JIT) per call answered in
         * the measured window; NaN when the server's CPU was not read. Unlike latency and
         * throughput it hardly depends on what else runs on a shared machine.
         */
        public double serverCpuMillisPerCall() {
            return serverCpuNanos < 0 || requests == 0 ? Double.NaN : serverCpuNanos / 1e6 / requests;
        }

        /**
         * The latencies corrected for coordinated omission: a closed-loop thread that waits for a
         * slow answer sends none of the calls it would have sent meanwhile, so the slow answer is
         * counted once instead of once per missed call. HdrHistogram adds the missed calls back,
         * taking as expected interval between one thread's calls the phase's median latency (the
         * pace of an unimpeded thread).
         */
        public Histogram corrected() {
            return latency.copyCorrectedForCoordinatedOmission(expectedIntervalNanos());
        }

        public long expectedIntervalNanos() {
            return latency.getValueAtPercentile(50);
        }

        public double correctedMillis(double percentile) {
            return corrected().getValueAtPercentile(percentile) / 1_000_000.0;
        }
    }

    /** A request to send: the body and a bearer token (one per call: the server refuses a replayed JWT). */
    public record Call(String url, String body, String token) {}

    /** One answer: its status and body. */
    record Answer(int status, byte[] body) {}

    /** A phase's recorded answers, those that were not 200, and the first failed responses (to print). */
    private static final class Tally {
        private final AtomicLong requests = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

        void failed(String failure) {
            if (failures.size() < 3) {
                failures.add(failure);
            }
        }

        void answered(int status) {
            requests.incrementAndGet();
            if (status != 200) {
                errors.incrementAndGet();
            }
        }

        long requests() {
            return requests.get();
        }

        long errors() {
            return errors.get();
        }

        void printFailures(String phase) {
            String failure = failures.peek();
            if (failure != null) {
                System.out.println("  " + phase + ": failed responses, e.g. "
                        + failure.substring(0, Math.min(300, failure.length())));
            }
        }
    }

    private LongSupplier serverCpuNanos = () -> -1;

    /** Reads the server's CPU time (nanoseconds, or -1) at the start and end of each closed-loop phase's measured window. */
    public LoadGenerator measuringServerCpu(LongSupplier serverCpuNanos) {
        this.serverCpuNanos = serverCpuNanos;
        return this;
    }

    public Result run(String name, int concurrency, Duration warmUp, Duration measure, Supplier<Call> calls)
            throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        Tally tally = new Tally();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(
                    () -> {
                        Connection connection = new Connection(Duration.ofSeconds(60));
                        try {
                            while (!stop.get()) {
                                Call call = calls.get();
                                long started = System.nanoTime();
                                int status = postOnce(connection, call, tally::failed);
                                long elapsed = System.nanoTime() - started;
                                if (measuring.get()) {
                                    recorder.recordValue(Math.min(elapsed, 60_000_000_000L));
                                    tally.answered(status);
                                }
                            }
                        } finally {
                            connection.close();
                        }
                    },
                    "load-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Thread.sleep(warmUp.toMillis());
        recorder.reset();
        long cpuBefore = serverCpuNanos.getAsLong();
        measuring.set(true);
        long started = System.nanoTime();
        Thread.sleep(measure.toMillis());
        measuring.set(false);
        long cpuAfter = serverCpuNanos.getAsLong();
        double seconds = (System.nanoTime() - started) / 1e9;
        Histogram histogram = recorder.getIntervalHistogram();
        stop.set(true);
        for (Thread t : threads) {
            t.join(70_000);
        }
        tally.printFailures(name);
        long cpu = cpuBefore < 0 || cpuAfter < 0 ? -1 : cpuAfter - cpuBefore;
        return new Result(name, concurrency, tally.requests(), tally.errors(), seconds, histogram, cpu);
    }

    /** What an open-loop phase measured: latencies from each call's intended send time. */
    public record OpenLoopResult(
            String name,
            double targetRate,
            int connections,
            long requests,
            long errors,
            long late,
            double seconds,
            Histogram latency)
            implements Measured {}

    /**
     * An open loop at a fixed rate (like wrk2): call i is due at {@code start + i / rate}
     * whatever happened to the calls before it, and its latency is measured from that intended
     * send time to the answer, so a server that falls behind is charged for the wait of every
     * call queued behind a slow one (no coordinated omission). Up to {@code connections} calls
     * are in flight at once, each on its own kept-alive connection; a call due while all of them
     * are busy goes out as soon as one is free, still timed from when it was due. Only calls due
     * in the measured window are recorded; {@code late} counts those sent more than a millisecond
     * after they were due (the generator or the server fell behind).
     */
    public OpenLoopResult openLoop(
            String name, double rate, int connections, Duration warmUp, Duration measure, Supplier<Call> calls)
            throws InterruptedException {
        Histogram histogram = new Histogram(3);
        AtomicLong next = new AtomicLong();
        AtomicLong late = new AtomicLong();
        Tally tally = new Tally();
        double intervalNanos = 1e9 / rate;
        long start = System.nanoTime() + 50_000_000L; // every thread ready before the first call is due
        long measureFrom = start + warmUp.toNanos();
        long measureTo = measureFrom + measure.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Thread t = new Thread(
                    () -> {
                        Connection connection = new Connection(Duration.ofSeconds(60));
                        try {
                            while (true) {
                                long due = start + (long) (next.getAndIncrement() * intervalNanos);
                                if (due >= measureTo) {
                                    return;
                                }
                                Call call = calls.get();
                                long wait;
                                while ((wait = due - System.nanoTime()) > 0) {
                                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                                }
                                boolean measured = due >= measureFrom;
                                if (measured && -wait > 1_000_000L) {
                                    late.incrementAndGet();
                                }
                                int status = postOnce(connection, call, tally::failed);
                                long latency = System.nanoTime() - due;
                                if (measured) {
                                    synchronized (histogram) {
                                        histogram.recordValue(Math.min(latency, 60_000_000_000L));
                                    }
                                    tally.answered(status);
                                }
                            }
                        } finally {
                            connection.close();
                        }
                    },
                    "open-loop-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        tally.printFailures(name);
        return new OpenLoopResult(
                name,
                rate,
                connections,
                tally.requests(),
                tally.errors(),
                late.get(),
                measure.toNanos() / 1e9,
                histogram);
    }

    /**
     * Sequential calls for the scale curve, where one call can outlast a time window: after
     * {@code warmUpCalls}, every call is recorded until at least {@code minCalls} calls and
     * {@code minDuration} have passed.
     */
    public Result sequential(String name, int warmUpCalls, int minCalls, Duration minDuration, Supplier<Call> calls) {
        Histogram histogram = new Histogram(3);
        Tally tally = new Tally();
        long started = 0;
        try (Connection connection = new Connection(Duration.ofSeconds(120))) {
            for (int i = 0; ; i++) {
                if (i == warmUpCalls) {
                    started = System.nanoTime();
                }
                if (i >= warmUpCalls
                        && tally.requests() >= minCalls
                        && System.nanoTime() - started >= minDuration.toNanos()) {
                    break;
                }
                Call call = calls.get();
                long t0 = System.nanoTime();
                int status = postOnce(connection, call, tally::failed);
                long elapsed = System.nanoTime() - t0;
                if (i >= warmUpCalls) {
                    histogram.recordValue(Math.min(elapsed, 120_000_000_000L));
                    tally.answered(status);
                }
            }
        }
        tally.printFailures(name);
        return new Result(
                name, 1, tally.requests(), tally.errors(), (System.nanoTime() - started) / 1e9, histogram, -1);
    }

    /** The rule ids of the cards one call answers (to check that both data paths agree). */
    public java.util.SortedSet<String> ruleIds(Call call) throws Exception {
        try (Connection connection = new Connection(Duration.ofSeconds(120))) {
            Answer answer = connection.post(call);
            if (answer.status() != 200) {
                throw new IllegalStateException(
                        "Answered " + answer.status() + ": " + new String(answer.body(), StandardCharsets.UTF_8));
            }
            java.util.SortedSet<String> ids = new java.util.TreeSet<>();
            for (com.fasterxml.jackson.databind.JsonNode card :
                    BenchData.JSON.readTree(answer.body()).path("cards")) {
                ids.add(card.path("source").path("topic").path("code").asText());
            }
            return ids;
        }
    }

    /**
     * The cards one call answers, each as its rule id, indicator and summary, in rule-id order
     * (to check that two data paths give the very same answer, not only the same rules).
     */
    public List<String> cards(Call call) throws Exception {
        try (Connection connection = new Connection(Duration.ofSeconds(120))) {
            Answer answer = connection.post(call);
            if (answer.status() != 200) {
                throw new IllegalStateException(
                        "Answered " + answer.status() + ": " + new String(answer.body(), StandardCharsets.UTF_8));
            }
            List<String> cards = new ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode card :
                    BenchData.JSON.readTree(answer.body()).path("cards")) {
                cards.add(card.path("source").path("topic").path("code").asText() + " "
                        + card.path("indicator").asText() + " "
                        + card.path("summary").asText());
            }
            java.util.Collections.sort(cards);
            return cards;
        }
    }

    /** One timed call on a new connection (the first call after ready). */
    public double once(Call call) throws Exception {
        try (Connection connection = new Connection(Duration.ofSeconds(60))) {
            long started = System.nanoTime();
            Answer answer = connection.post(call);
            double ms = (System.nanoTime() - started) / 1e6;
            if (answer.status() != 200) {
                throw new IllegalStateException("First call answered " + answer.status() + ": "
                        + new String(answer.body(), StandardCharsets.UTF_8));
            }
            return ms;
        }
    }

    /** A kept-alive HTTP/1.1 connection to one host; reopened after an error or a "Connection: close". */
    static final class Connection implements AutoCloseable {

        private final int timeoutMillis;
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private String hostPort;

        Connection(Duration timeout) {
            this.timeoutMillis = (int) timeout.toMillis();
        }

        Answer post(Call call) throws IOException {
            URI uri = URI.create(call.url());
            String target = uri.getHost() + ":" + uri.getPort();
            if (socket == null || !target.equals(hostPort)) {
                close();
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
                socket.setSoTimeout(timeoutMillis);
                in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
                out = socket.getOutputStream();
                hostPort = target;
            }
            byte[] body = call.body().getBytes(StandardCharsets.UTF_8);
            String head = "POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + target
                    + "\r\nContent-Type: application/json\r\nAccept: application/json\r\nAuthorization: Bearer "
                    + call.token()
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n";
            ByteArrayOutputStream request = new ByteArrayOutputStream(head.length() + body.length);
            request.write(head.getBytes(StandardCharsets.ISO_8859_1));
            request.write(body);
            request.writeTo(out);
            out.flush();
            return read();
        }

        private Answer read() throws IOException {
            String statusLine = line();
            if (statusLine == null || !statusLine.startsWith("HTTP/1.1 ")) {
                throw new IOException("Bad status line: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            boolean closeAfter = false;
            String header;
            while ((header = line()) != null && !header.isEmpty()) {
                String lower = header.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(lower.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    closeAfter = true;
                }
            }
            byte[] body;
            if (chunked) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                while (true) {
                    String size = line();
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        while (!line().isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    all.write(in.readNBytes(n));
                    line();
                }
                body = all.toByteArray();
            } else if (length >= 0) {
                body = in.readNBytes((int) length);
            } else {
                body = in.readAllBytes();
                closeAfter = true;
            }
            if (closeAfter) {
                close();
            }
            return new Answer(status, body);
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    int end = line.length();
                    return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
                }
                line.append((char) c);
            }
            if (line.length() == 0) {
                throw new IOException("Connection closed by the server");
            }
            return line.toString();
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            socket = null;
            hostPort = null;
        }
    }

    /**
     * One call on a kept-alive connection: the HTTP status, or -1 when the connection failed (it
     * is then closed and reopened by the next call). A non-200 answer or the error goes to onFailure.
     */
    private static int postOnce(Connection connection, Call call, java.util.function.Consumer<String> onFailure) {
        try {
            Answer answer = connection.post(call);
            if (answer.status() != 200) {
                onFailure.accept(answer.status() + " " + new String(answer.body(), StandardCharsets.UTF_8));
            }
            return answer.status();
        } catch (IOException e) {
            connection.close();
            onFailure.accept(e.toString());
            return -1;
        }
    }
}
