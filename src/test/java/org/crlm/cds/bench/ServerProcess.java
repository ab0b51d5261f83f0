package org.crlm.cds.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server under test, as its own JVM started from the fat jar, as operators run it. */
public final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path log;
    private final String base;
    private final long startedNanos;
    private final HttpClient http = HttpClient.newHttpClient();

    public ServerProcess(Path jar, int port, Path workDir, List<String> jvmOptions, List<String> appArgs)
            throws IOException {
        this(jar, port, workDir, jvmOptions, appArgs, Path.of("."));
    }

    /** @param directory where the server runs: the checkout whose cql/ and fhir-resources/ it loads */
    public ServerProcess(
            Path jar, int port, Path workDir, List<String> jvmOptions, List<String> appArgs, Path directory)
            throws IOException {
        Files.createDirectories(workDir);
        this.log = workDir.resolve("server.log");
        this.base = "http://127.0.0.1:" + port;
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar.toAbsolutePath().toString());
        command.add("--server.port=" + port);
        command.addAll(appArgs);
        startedNanos = System.nanoTime();
        process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    public String base() {
        return base;
    }

    /** CPU time of the server process so far (all threads), in nanoseconds; -1 when the OS does not tell. */
    public long cpuNanos() {
        return process.toHandle()
                .info()
                .totalCpuDuration()
                .map(Duration::toNanos)
                .orElse(-1L);
    }

    public long pid() {
        return process.pid();
    }

    /** Seconds from launch to readiness UP; fails at once, with the log's last lines, if the server exits. */
    public double awaitReady(Duration timeout) {
        try {
            org.awaitility.Awaitility.await("readiness of " + base)
                    .atMost(timeout)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(100))
                    .until(this::ready);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new IllegalStateException("Not ready after " + timeout + "; see " + log + logTail());
        }
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    private boolean ready() throws InterruptedException {
        if (!process.isAlive()) {
            throw new IllegalStateException("The server exited; see " + log + logTail());
        }
        try {
            return http.send(
                                    HttpRequest.newBuilder(URI.create(base + "/actuator/health/readiness"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode()
                    == 200;
        } catch (IOException notYet) {
            return false; // not listening yet
        }
    }

    /** The log's last lines, so that a start that fails on a CI machine says why where CI prints it. */
    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return "; its last lines:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | java.io.UncheckedIOException e) {
            return "";
        }
    }

    /** A number the server logged, e.g. "Started CrlmCdsApplication in 41.2 seconds". */
    public Double logged(String regex) throws IOException {
        Matcher m = Pattern.compile(regex).matcher(Files.readString(log));
        return m.find() ? Double.parseDouble(m.group(1)) : null;
    }

    private static String metricsToken() {
        return org.crlm.cds.support.TestKeys.get().fhirToken(org.crlm.cds.support.TestKeys.METRICS_SCOPE);
    }

    public double metric(String name, String tag) throws Exception {
        String url = base + "/actuator/metrics/" + name + (tag == null ? "" : "?tag=" + tag);
        String body = http.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + metricsToken())
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("\"value\"\\s*:\\s*([0-9.eE+\\-]+)").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("No metric " + name + ": " + body);
        }
        return Double.parseDouble(m.group(1));
    }

    public double prometheus(String series) throws Exception {
        return prometheus(series, "");
    }

    /** The sum of a series over its label sets that contain {@code label}, e.g. {@code result="hit"}. */
    public double prometheus(String series, String label) throws Exception {
        String body = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus"))
                                .header("Authorization", "Bearer " + metricsToken())
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "(\\{[^}]*\\})? ([0-9.eE+\\-]+)$")
                .matcher(body);
        double total = 0;
        while (m.find()) {
            if (label.isEmpty() || (m.group(1) != null && m.group(1).contains(label))) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** Heap in use just after a full GC (jcmd GC.run), in MB. */
    public double heapAfterGcMb() throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
        Thread.sleep(500);
        return metric("jvm.memory.used", "area:heap") / (1024 * 1024);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
